package registertest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// RunAccounts runs the conformance suite of chungthuc.Accounts. open returns a fresh, empty,
// migrated register that implements chungthuc.Accounts, chungthuc.Register (to create the
// units and officers accounts refer to) and chungthuc.AuditLog; the suite closes it.
func RunAccounts(t *testing.T, open func(t *testing.T) chungthuc.Accounts) {
	fresh := func(t *testing.T) accountsDB {
		t.Helper()
		a := open(t)
		if c, ok := a.(io.Closer); ok {
			t.Cleanup(func() { c.Close() })
		}
		r, ok := a.(chungthuc.Register)
		if !ok {
			t.Fatalf("%T does not implement chungthuc.Register", a)
		}
		audit(t, r)
		return accountsDB{a, r}
	}
	t.Run("CreateAndLookup", func(t *testing.T) { testCreateAccount(t, fresh(t)) })
	t.Run("AccountValidation", func(t *testing.T) { testAccountValidation(t, fresh(t)) })
	t.Run("ConcurrentUsername", func(t *testing.T) { testConcurrentUsername(t, fresh(t)) })
	t.Run("LoginState", func(t *testing.T) { testLoginState(t, fresh(t)) })
	t.Run("LoginFailures", func(t *testing.T) { testLoginFailures(t, fresh(t)) })
	t.Run("Password", func(t *testing.T) { testPassword(t, fresh(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, fresh(t)) })
	t.Run("ExpiredSessions", func(t *testing.T) { testExpiredSessions(t, fresh(t)) })
	t.Run("APITokens", func(t *testing.T) { testAPITokens(t, fresh(t)) })
	t.Run("ListAndDisable", func(t *testing.T) { testListAndDisable(t, fresh(t)) })
	t.Run("AccountsAudit", func(t *testing.T) { testAccountsAudit(t, fresh(t)) })
	t.Run("TOTP", func(t *testing.T) { testTOTP(t, fresh(t)) })
	t.Run("TOTPParallelReuse", func(t *testing.T) { testTOTPParallelReuse(t, fresh(t)) })
	t.Run("PendingLogins", func(t *testing.T) { testPendingLogins(t, fresh(t)) })
}

// accountsDB is the register under test seen through both interfaces.
type accountsDB struct {
	chungthuc.Accounts
	r chungthuc.Register
}

// PasswordHash returns a well-formed argon2id PHC string with a random salt and hash (not
// derived from any password): what the registers accept as a password hash.
func PasswordHash() string {
	salt, sum := make([]byte, 16), make([]byte, 32)
	rand.Read(salt)
	rand.Read(sum)
	enc := base64.RawStdEncoding.EncodeToString
	return "$argon2id$v=19$m=65536,t=3,p=4$" + enc(salt) + "$" + enc(sum)
}

// SecretHash returns a fresh hex SHA-256-sized value, as stored for a session cookie or an API
// token.
func SecretHash() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newAccount(t *testing.T, db accountsDB, a *chungthuc.Account) *chungthuc.Account {
	t.Helper()
	if a.PasswordHash == "" {
		a.PasswordHash = PasswordHash()
	}
	must(t, "CreateAccount "+a.Username, db.CreateAccount(ctx, a))
	return a
}

// sameAccount compares two accounts field by field, times by instant.
func sameAccount(t *testing.T, what string, got, want *chungthuc.Account) {
	t.Helper()
	g, w := *got, *want
	if !g.LockedUntil.Equal(w.LockedUntil) || !g.CreatedAt.Equal(w.CreatedAt) {
		t.Fatalf("%s: times differ:\n got %+v\nwant %+v", what, got, want)
	}
	g.LockedUntil, w.LockedUntil, g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testCreateAccount(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	o := newOfficer(t, db.r, u.ID)
	admin := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "  Admin.PL ", Role: chungthuc.RoleUnitAdmin})
	if admin.ID == 0 || admin.CreatedAt.IsZero() || admin.Username != "admin.pl" {
		t.Fatalf("CreateAccount left %+v", admin)
	}
	for _, name := range []string{"admin.pl", "ADMIN.PL", "Admin.Pl", " admin.pl"} {
		got, err := db.AccountByUsername(ctx, name)
		must(t, "AccountByUsername "+name, err)
		sameAccount(t, "AccountByUsername "+name, got, admin)
	}
	got, err := db.AccountByID(ctx, admin.ID)
	must(t, "AccountByID", err)
	sameAccount(t, "AccountByID", got, admin)

	locked := time.Date(2026, 3, 4, 5, 6, 7, 891234567, chungthuc.Vietnam)
	off := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, OfficerID: o.ID, Username: "hang_nt-01",
		Role: chungthuc.RoleOfficer, FailedLogins: 2, LockedUntil: locked, Disabled: true})
	got, err = db.AccountByUsername(ctx, "HANG_NT-01")
	must(t, "AccountByUsername officer", err)
	sameAccount(t, "officer account", got, off)
	if !got.LockedUntil.Equal(locked.Truncate(time.Microsecond)) || got.LockedUntil.Location() != time.UTC {
		t.Fatalf("LockedUntil = %v, want %v in UTC", got.LockedUntil, locked)
	}

	sys := newAccount(t, db, &chungthuc.Account{Username: "root", Role: chungthuc.RoleSystemAdmin})
	got, err = db.AccountByID(ctx, sys.ID)
	must(t, "AccountByID system admin", err)
	if got.UnitID != 0 || got.OfficerID != 0 || got.Role != chungthuc.RoleSystemAdmin || !got.LockedUntil.IsZero() {
		t.Fatalf("system admin = %+v", got)
	}

	for _, name := range []string{"admin.pl", "ADMIN.pl", "Root"} {
		err := db.CreateAccount(ctx, &chungthuc.Account{UnitID: u.ID, Username: name, PasswordHash: PasswordHash(), Role: chungthuc.RoleClerk})
		code(t, "duplicate username "+name, err, chungthuc.ECONFLICT)
	}
	_, err = db.AccountByUsername(ctx, "nobody")
	code(t, "AccountByUsername unknown", err, chungthuc.ENOTFOUND)
	_, err = db.AccountByUsername(ctx, "not a username!")
	code(t, "AccountByUsername malformed", err, chungthuc.ENOTFOUND)
	_, err = db.AccountByID(ctx, sys.ID+1000)
	code(t, "AccountByID unknown", err, chungthuc.ENOTFOUND)
}

func testAccountValidation(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	other := newUnit(t, db.r, "TL")
	o := newOfficer(t, db.r, other.ID)
	ok := func() *chungthuc.Account {
		return &chungthuc.Account{UnitID: u.ID, Username: "clerk1", PasswordHash: PasswordHash(), Role: chungthuc.RoleClerk}
	}
	for _, c := range []struct {
		what string
		edit func(a *chungthuc.Account)
		want string
	}{
		{"short username", func(a *chungthuc.Account) { a.Username = "ab" }, chungthuc.EINVALID},
		{"long username", func(a *chungthuc.Account) { a.Username = strings.Repeat("a", 65) }, chungthuc.EINVALID},
		{"space in username", func(a *chungthuc.Account) { a.Username = "van thu" }, chungthuc.EINVALID},
		{"Vietnamese username", func(a *chungthuc.Account) { a.Username = "hằng" }, chungthuc.EINVALID},
		{"at sign", func(a *chungthuc.Account) { a.Username = "a@b.vn" }, chungthuc.EINVALID},
		{"plain password", func(a *chungthuc.Account) { a.PasswordHash = "hunter2" }, chungthuc.EINVALID},
		{"bcrypt hash", func(a *chungthuc.Account) {
			a.PasswordHash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
		}, chungthuc.EINVALID},
		{"no password", func(a *chungthuc.Account) { a.PasswordHash = "" }, chungthuc.EINVALID},
		{"unknown role", func(a *chungthuc.Account) { a.Role = "boss" }, chungthuc.EINVALID},
		{"no role", func(a *chungthuc.Account) { a.Role = "" }, chungthuc.EINVALID},
		{"clerk without unit", func(a *chungthuc.Account) { a.UnitID = 0 }, chungthuc.EINVALID},
		{"unit admin without unit", func(a *chungthuc.Account) { a.UnitID, a.Role = 0, chungthuc.RoleUnitAdmin }, chungthuc.EINVALID},
		{"system admin with unit", func(a *chungthuc.Account) { a.Role = chungthuc.RoleSystemAdmin }, chungthuc.EINVALID},
		{"negative failed logins", func(a *chungthuc.Account) { a.FailedLogins = -1 }, chungthuc.EINVALID},
		{"officer of another unit", func(a *chungthuc.Account) { a.OfficerID, a.Role = o.ID, chungthuc.RoleOfficer }, chungthuc.EINVALID},
		{"unknown unit", func(a *chungthuc.Account) { a.UnitID = other.ID + 1000 }, chungthuc.ENOTFOUND},
		{"unknown officer", func(a *chungthuc.Account) { a.OfficerID = o.ID + 1000 }, chungthuc.ENOTFOUND},
	} {
		a := ok()
		c.edit(a)
		code(t, c.what, db.CreateAccount(ctx, a), c.want)
	}
	code(t, "nil account", db.CreateAccount(ctx, nil), chungthuc.EINVALID)
	// Nothing above was stored: the username is still free.
	_, err := db.AccountByUsername(ctx, "clerk1")
	code(t, "after failed creates", err, chungthuc.ENOTFOUND)
	newAccount(t, db, ok())
}

func testConcurrentUsername(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := "Hang.NT"
			if i%2 == 1 {
				name = "hang.nt"
			}
			errs <- db.CreateAccount(ctx, &chungthuc.Account{UnitID: u.ID, Username: name, PasswordHash: PasswordHash(),
				Role: chungthuc.RoleOfficer})
		})
	}
	wg.Wait()
	close(errs)
	created := 0
	for err := range errs {
		switch chungthuc.ErrorCode(err) {
		case "":
			created++
		case chungthuc.ECONFLICT:
		default:
			t.Fatalf("concurrent CreateAccount: %v", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d accounts created for one username", created)
	}
}

func testLoginState(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	a := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "vanthu", Role: chungthuc.RoleClerk})
	until := time.Date(2026, 1, 2, 3, 4, 5, 678901999, time.UTC)
	must(t, "SetLoginState lock", db.SetLoginState(ctx, a.ID, 5, until))
	got, err := db.AccountByID(ctx, a.ID)
	must(t, "AccountByID", err)
	if got.FailedLogins != 5 || !got.LockedUntil.Equal(until.Truncate(time.Microsecond)) || got.PasswordHash != a.PasswordHash {
		t.Fatalf("after locking: %+v", got)
	}
	must(t, "SetLoginState one failure", db.SetLoginState(ctx, a.ID, 1, time.Time{}))
	got, err = db.AccountByUsername(ctx, "VanThu")
	must(t, "AccountByUsername", err)
	if got.FailedLogins != 1 || !got.LockedUntil.IsZero() {
		t.Fatalf("after unlocking: %+v", got)
	}
	must(t, "SetLoginState reset", db.SetLoginState(ctx, a.ID, 0, time.Time{}))
	got, err = db.AccountByID(ctx, a.ID)
	must(t, "AccountByID", err)
	if got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Fatalf("after reset: %+v", got)
	}
	code(t, "negative count", db.SetLoginState(ctx, a.ID, -1, time.Time{}), chungthuc.EINVALID)
	code(t, "unknown account", db.SetLoginState(ctx, a.ID+1000, 1, time.Time{}), chungthuc.ENOTFOUND)
}

func testPassword(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	a := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "vanthu", Role: chungthuc.RoleClerk})
	must(t, "SetLoginState", db.SetLoginState(ctx, a.ID, 3, time.Time{}))
	h := PasswordHash()
	must(t, "SetPassword", db.SetPassword(ctx, a.ID, h, true))
	got, err := db.AccountByID(ctx, a.ID)
	must(t, "AccountByID", err)
	if got.PasswordHash != h || got.FailedLogins != 3 || got.Username != "vanthu" || !got.MustChangePassword {
		t.Fatalf("after SetPassword: %+v", got)
	}
	code(t, "plain password", db.SetPassword(ctx, a.ID, "correct horse battery staple", false), chungthuc.EINVALID)
	code(t, "empty hash", db.SetPassword(ctx, a.ID, "", false), chungthuc.EINVALID)
	code(t, "unknown account", db.SetPassword(ctx, a.ID+1000, PasswordHash(), false), chungthuc.ENOTFOUND)
	got, err = db.AccountByID(ctx, a.ID)
	must(t, "AccountByID", err)
	if got.PasswordHash != h || !got.MustChangePassword {
		t.Fatal("a refused SetPassword changed the account")
	}
	h2 := PasswordHash()
	must(t, "SetPassword chosen", db.SetPassword(ctx, a.ID, h2, false))
	got, err = db.AccountByUsername(ctx, "vanthu")
	must(t, "AccountByUsername", err)
	if got.PasswordHash != h2 || got.MustChangePassword {
		t.Fatalf("after a chosen password: %+v", got)
	}
	// An account created with a generated password must change it.
	b := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "moi.tao", Role: chungthuc.RoleClerk, MustChangePassword: true})
	if got, err := db.AccountByID(ctx, b.ID); err != nil || !got.MustChangePassword {
		t.Fatalf("created with MustChangePassword: %+v, %v", got, err)
	}
}

func testSessions(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	a := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "vanthu", Role: chungthuc.RoleClerk})
	created := time.Date(2026, 5, 6, 8, 0, 0, 123456789, chungthuc.Vietnam)
	s := &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID, CSRFToken: Token(), CreatedAt: created,
		ExpiresAt: created.Add(12 * time.Hour)}
	must(t, "CreateSession", db.CreateSession(ctx, s))
	got, err := db.SessionByHash(ctx, s.TokenHash)
	must(t, "SessionByHash", err)
	if got.TokenHash != s.TokenHash || got.AccountID != a.ID || got.CSRFToken != s.CSRFToken ||
		!got.CreatedAt.Equal(created.Truncate(time.Microsecond)) || !got.ExpiresAt.Equal(s.ExpiresAt) ||
		!got.CreatedAt.Equal(s.CreatedAt) || got.ExpiresAt.Location() != time.UTC {
		t.Fatalf("SessionByHash = %+v, want %+v", got, s)
	}

	// CreatedAt defaults to now.
	s2 := &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID, CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}
	must(t, "CreateSession without CreatedAt", db.CreateSession(ctx, s2))
	if s2.CreatedAt.IsZero() {
		t.Fatal("CreateSession left CreatedAt zero")
	}

	code(t, "duplicate hash", db.CreateSession(ctx, &chungthuc.Session{TokenHash: s.TokenHash, AccountID: a.ID,
		CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}), chungthuc.ECONFLICT)
	code(t, "unknown account", db.CreateSession(ctx, &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID + 1000,
		CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}), chungthuc.ENOTFOUND)
	code(t, "no CSRF token", db.CreateSession(ctx, &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID,
		ExpiresAt: time.Now().Add(time.Hour)}), chungthuc.EINVALID)
	code(t, "expires before created", db.CreateSession(ctx, &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID,
		CSRFToken: Token(), CreatedAt: created, ExpiresAt: created}), chungthuc.EINVALID)
	code(t, "no expiry", db.CreateSession(ctx, &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID,
		CSRFToken: Token()}), chungthuc.EINVALID)
	code(t, "raw cookie instead of hash", db.CreateSession(ctx, &chungthuc.Session{TokenHash: "short", AccountID: a.ID,
		CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}), chungthuc.EINVALID)
	code(t, "nil session", db.CreateSession(ctx, nil), chungthuc.EINVALID)

	_, err = db.SessionByHash(ctx, SecretHash())
	code(t, "SessionByHash unknown", err, chungthuc.ENOTFOUND)
	must(t, "DeleteSession", db.DeleteSession(ctx, s.TokenHash))
	_, err = db.SessionByHash(ctx, s.TokenHash)
	code(t, "SessionByHash after delete", err, chungthuc.ENOTFOUND)
	code(t, "DeleteSession twice", db.DeleteSession(ctx, s.TokenHash), chungthuc.ENOTFOUND)
	if _, err := db.SessionByHash(ctx, s2.TokenHash); err != nil {
		t.Fatalf("DeleteSession removed another session: %v", err)
	}

	// DeleteSessions ends every session of one account but the one kept, and no other
	// account's.
	other := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "khac", Role: chungthuc.RoleClerk})
	s3 := &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID, CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}
	s4 := &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID, CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}
	so := &chungthuc.Session{TokenHash: SecretHash(), AccountID: other.ID, CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}
	for _, x := range []*chungthuc.Session{s3, s4, so} {
		must(t, "CreateSession", db.CreateSession(ctx, x))
	}
	n, err := db.DeleteSessions(ctx, a.ID, s3.TokenHash)
	must(t, "DeleteSessions", err)
	if n != 2 { // s2 and s4
		t.Fatalf("DeleteSessions ended %d sessions, want 2", n)
	}
	for _, x := range []*chungthuc.Session{s2, s4} {
		_, err := db.SessionByHash(ctx, x.TokenHash)
		code(t, "ended session", err, chungthuc.ENOTFOUND)
	}
	for _, x := range []*chungthuc.Session{s3, so} {
		if _, err := db.SessionByHash(ctx, x.TokenHash); err != nil {
			t.Fatalf("DeleteSessions ended a session it should keep: %v", err)
		}
	}
	if n, err := db.DeleteSessions(ctx, a.ID, ""); err != nil || n != 1 {
		t.Fatalf("DeleteSessions all = %d, %v; want 1", n, err)
	}
	if n, err := db.DeleteSessions(ctx, a.ID+1000, ""); err != nil || n != 0 {
		t.Fatalf("DeleteSessions unknown account = %d, %v; want 0", n, err)
	}
}

func testExpiredSessions(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	a := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "vanthu", Role: chungthuc.RoleClerk})
	b := newAccount(t, db, &chungthuc.Account{Username: "root", Role: chungthuc.RoleSystemAdmin})
	t0 := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	var hashes []string
	for i, acc := range []*chungthuc.Account{a, b, a, b} {
		s := &chungthuc.Session{TokenHash: SecretHash(), AccountID: acc.ID, CSRFToken: Token(), CreatedAt: t0,
			ExpiresAt: t0.Add(time.Duration(i+1) * time.Hour)}
		must(t, "CreateSession", db.CreateSession(ctx, s))
		hashes = append(hashes, s.TokenHash)
	}
	// The first two expire at or before t0+2h (the boundary counts as expired).
	must(t, "DeleteExpiredSessions", db.DeleteExpiredSessions(ctx, t0.Add(2*time.Hour).In(chungthuc.Vietnam)))
	for i, h := range hashes {
		_, err := db.SessionByHash(ctx, h)
		if i < 2 {
			code(t, fmt.Sprintf("expired session %d", i), err, chungthuc.ENOTFOUND)
		} else {
			must(t, fmt.Sprintf("live session %d", i), err)
		}
	}
	must(t, "DeleteExpiredSessions with nothing to delete", db.DeleteExpiredSessions(ctx, t0))
	must(t, "DeleteExpiredSessions all", db.DeleteExpiredSessions(ctx, t0.Add(24*time.Hour)))
	for i, h := range hashes {
		_, err := db.SessionByHash(ctx, h)
		code(t, fmt.Sprintf("session %d after deleting all", i), err, chungthuc.ENOTFOUND)
	}
}

func testAPITokens(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	other := newUnit(t, db.r, "TL")
	o := newOfficer(t, db.r, u.ID)
	oo := newOfficer(t, db.r, other.ID)
	tok := &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "  Một cửa Hòa Bình ", TokenHash: SecretHash(),
		RevokedAt: time.Now()}
	must(t, "CreateAPIToken", db.CreateAPIToken(ctx, tok))
	if tok.ID == 0 || tok.CreatedAt.IsZero() || !tok.RevokedAt.IsZero() || tok.Name != "Một cửa Hòa Bình" {
		t.Fatalf("CreateAPIToken left %+v", tok)
	}
	got, err := db.APITokenByHash(ctx, tok.TokenHash)
	must(t, "APITokenByHash", err)
	if !reflect.DeepEqual(got, tok) {
		t.Fatalf("APITokenByHash = %+v, want %+v", got, tok)
	}

	hash := SecretHash()
	for _, c := range []struct {
		what string
		tok  *chungthuc.APIToken
		want string
	}{
		{"duplicate hash", &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "x", TokenHash: tok.TokenHash}, chungthuc.ECONFLICT},
		{"officer of another unit", &chungthuc.APIToken{UnitID: u.ID, OfficerID: oo.ID, Name: "x", TokenHash: hash}, chungthuc.EINVALID},
		{"unknown unit", &chungthuc.APIToken{UnitID: other.ID + 1000, OfficerID: o.ID, Name: "x", TokenHash: hash}, chungthuc.ENOTFOUND},
		{"unknown officer", &chungthuc.APIToken{UnitID: u.ID, OfficerID: oo.ID + 1000, Name: "x", TokenHash: hash}, chungthuc.ENOTFOUND},
		{"no officer", &chungthuc.APIToken{UnitID: u.ID, Name: "x", TokenHash: hash}, chungthuc.EINVALID},
		{"no unit", &chungthuc.APIToken{OfficerID: o.ID, Name: "x", TokenHash: hash}, chungthuc.EINVALID},
		{"no name", &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "  ", TokenHash: hash}, chungthuc.EINVALID},
		{"long name", &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: strings.Repeat("ă", 101), TokenHash: hash}, chungthuc.EINVALID},
		{"no hash", &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "x"}, chungthuc.EINVALID},
		{"nil", nil, chungthuc.EINVALID},
	} {
		code(t, c.what, db.CreateAPIToken(ctx, c.tok), c.want)
	}
	_, err = db.APITokenByHash(ctx, hash)
	code(t, "APITokenByHash unknown", err, chungthuc.ENOTFOUND)

	at := time.Date(2026, 9, 2, 10, 11, 12, 131415161, chungthuc.Vietnam)
	must(t, "RevokeAPIToken", db.RevokeAPIToken(ctx, tok.ID, at))
	got, err = db.APITokenByHash(ctx, tok.TokenHash)
	must(t, "APITokenByHash revoked", err)
	if !got.RevokedAt.Equal(at.Truncate(time.Microsecond)) || got.RevokedAt.Location() != time.UTC || got.ID != tok.ID {
		t.Fatalf("revoked token = %+v, want RevokedAt %v", got, at)
	}
	code(t, "RevokeAPIToken twice", db.RevokeAPIToken(ctx, tok.ID, at.Add(time.Hour)), chungthuc.ECONFLICT)
	code(t, "RevokeAPIToken unknown", db.RevokeAPIToken(ctx, tok.ID+1000, at), chungthuc.ENOTFOUND)
	got, err = db.APITokenByHash(ctx, tok.TokenHash)
	must(t, "APITokenByHash", err)
	if !got.RevokedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("a refused revocation changed RevokedAt to %v", got.RevokedAt)
	}

	// A zero time means now; a second token of the same officer is independent.
	tok2 := &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "Một cửa 2", TokenHash: SecretHash()}
	must(t, "CreateAPIToken second", db.CreateAPIToken(ctx, tok2))
	must(t, "RevokeAPIToken now", db.RevokeAPIToken(ctx, tok2.ID, time.Time{}))
	got, err = db.APITokenByHash(ctx, tok2.TokenHash)
	must(t, "APITokenByHash second", err)
	if got.RevokedAt.IsZero() {
		t.Fatal("RevokeAPIToken with a zero time left the token valid")
	}
}

// testAccountsAudit checks which changes are audited, in the same chain as the register's own.
func testAccountsAudit(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	o := newOfficer(t, db.r, u.ID)
	step := func(what string, want int64, fn func() error) {
		t.Helper()
		before := entries(t, db.r)
		if err := fn(); err != nil && want > 0 {
			t.Fatalf("%s: %v", what, err)
		}
		if got := entries(t, db.r) - before; got != want {
			t.Fatalf("%s appended %d audit entries, want %d", what, got, want)
		}
	}
	a := &chungthuc.Account{UnitID: u.ID, OfficerID: o.ID, Username: "hang.nt", PasswordHash: PasswordHash(), Role: chungthuc.RoleOfficer}
	step("CreateAccount", 1, func() error { return db.CreateAccount(ctx, a) })
	step("duplicate CreateAccount", 0, func() error {
		return db.CreateAccount(ctx, &chungthuc.Account{UnitID: u.ID, Username: "HANG.NT", PasswordHash: PasswordHash(), Role: chungthuc.RoleClerk})
	})
	step("SetPassword", 1, func() error { return db.SetPassword(ctx, a.ID, PasswordHash(), true) })
	step("refused SetPassword", 0, func() error { return db.SetPassword(ctx, a.ID, "plain", false) })
	step("SetLoginState", 0, func() error { return db.SetLoginState(ctx, a.ID, 3, time.Now().Add(time.Minute)) })
	s := &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID, CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}
	step("CreateSession", 0, func() error { return db.CreateSession(ctx, s) })
	step("DeleteSession", 0, func() error { return db.DeleteSession(ctx, s.TokenHash) })
	step("DeleteExpiredSessions", 0, func() error { return db.DeleteExpiredSessions(ctx, time.Now()) })
	tok := &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "Một cửa", TokenHash: SecretHash()}
	step("CreateAPIToken", 1, func() error { return db.CreateAPIToken(ctx, tok) })
	step("RevokeAPIToken", 1, func() error { return db.RevokeAPIToken(ctx, tok.ID, time.Time{}) })
	step("RevokeAPIToken twice", 0, func() error { return db.RevokeAPIToken(ctx, tok.ID, time.Time{}) })
	// The HTTP layer audits logins on the same chain.
	step("Append login", 1, func() error {
		return audit(t, db.r).Append(ctx, &chungthuc.AuditEntry{Action: "login", UnitID: u.ID, Actor: "account:1",
			Subject: "account:1", Detail: `{"ip":"203.0.113.7"}`})
	})
}

// BenchmarkAccounts measures the hot paths of authentication with 16 concurrent callers:
// SessionByHash (every request of a logged-in browser), APITokenByHash (every request of an
// integration), and CreateSession + DeleteSession (a log-in and log-out).
func BenchmarkAccounts(b *testing.B, db chungthuc.Accounts) {
	ctx := context.Background()
	r, ok := db.(chungthuc.Register)
	if !ok {
		b.Fatalf("%T does not implement chungthuc.Register", db)
	}
	u := &chungthuc.Unit{Code: "BENCH", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	if err := r.CreateUnit(ctx, u); err != nil {
		b.Fatal(err)
	}
	o := &chungthuc.Officer{UnitID: u.ID, Name: "Nguyễn Thị Hằng", Title: "PHÓ CHỦ TỊCH", Active: true}
	if err := r.CreateOfficer(ctx, o); err != nil {
		b.Fatal(err)
	}
	a := &chungthuc.Account{UnitID: u.ID, OfficerID: o.ID, Username: "hang.nt", PasswordHash: PasswordHash(), Role: chungthuc.RoleOfficer}
	if err := db.CreateAccount(ctx, a); err != nil {
		b.Fatal(err)
	}
	const live = 1000
	hashes := make([]string, live)
	for i := range hashes {
		hashes[i] = SecretHash()
		s := &chungthuc.Session{TokenHash: hashes[i], AccountID: a.ID, CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.CreateSession(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	tok := &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "Một cửa", TokenHash: SecretHash()}
	if err := db.CreateAPIToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	parallel := max(1, 16/runtime.GOMAXPROCS(0))
	run := func(name string, op func(i int) error) {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(parallel)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if err := op(i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	run("SessionByHash", func(i int) error {
		_, err := db.SessionByHash(ctx, hashes[i%live])
		return err
	})
	run("APITokens", func(int) error {
		_, err := db.ListAPITokens(ctx, u.ID)
		return err
	})
	other := &chungthuc.Account{UnitID: u.ID, Username: "vanthu", PasswordHash: PasswordHash(), Role: chungthuc.RoleClerk}
	if err := db.CreateAccount(ctx, other); err != nil {
		b.Fatal(err)
	}
	run("DisableEnable", func(i int) error { return db.SetAccountDisabled(ctx, other.ID, i%2 == 1) })
	run("APITokenByHash", func(int) error {
		_, err := db.APITokenByHash(ctx, tok.TokenHash)
		return err
	})
	run("CreateDeleteSession", func(int) error {
		s := &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID, CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.CreateSession(ctx, s); err != nil {
			return err
		}
		return db.DeleteSession(ctx, s.TokenHash)
	})
}

// testLoginFailures: ten parallel failures under the same keys count ten; a count older
// than the window starts again at 1; forgetting one key leaves the other.
func testLoginFailures(t *testing.T, db accountsDB) {
	ctx := context.Background()
	keys := []string{"login:abc@127.0.0.1", "addr:127.0.0.1"}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.LoginFailed(ctx, keys, now, time.Hour); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := db.LoginFailures(ctx, append(keys, "addr:unknown"))
	must(t, "LoginFailures", err)
	if got[0].Count != 10 || got[1].Count != 10 || !got[0].Last.Equal(now) || got[2].Count != 0 || !got[2].Last.IsZero() {
		t.Fatalf("after 10 parallel failures: %+v", got)
	}
	later, err := db.LoginFailed(ctx, keys[:1], now.Add(2*time.Hour), time.Hour)
	must(t, "LoginFailed after the window", err)
	if later[0].Count != 1 {
		t.Fatalf("a failure after the window counts %d, want 1", later[0].Count)
	}
	must(t, "ForgetLoginFailures", db.ForgetLoginFailures(ctx, keys[:1]))
	got, err = db.LoginFailures(ctx, keys)
	must(t, "LoginFailures", err)
	if got[0].Count != 0 || got[1].Count != 10 {
		t.Fatalf("after forgetting the first key: %+v", got)
	}
}

// testListAndDisable: Accounts and APITokens list a unit's (or every unit's) by id;
// disabling an account ends its sessions and revokes its officer's active tokens (only
// those), enabling restores neither; both are audited.
func testListAndDisable(t *testing.T, db accountsDB) {
	u, other := newUnit(t, db.r, "HB"), newUnit(t, db.r, "TL")
	o, oo := newOfficer(t, db.r, u.ID), newOfficer(t, db.r, other.ID)
	off := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, OfficerID: o.ID, Username: "canbo", Role: chungthuc.RoleOfficer})
	clerk := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "vanthu", Role: chungthuc.RoleClerk})
	far := newAccount(t, db, &chungthuc.Account{UnitID: other.ID, OfficerID: oo.ID, Username: "canbo.tl", Role: chungthuc.RoleOfficer})
	admin := newAccount(t, db, &chungthuc.Account{Username: "quantri", Role: chungthuc.RoleSystemAdmin})
	ids := func(as []*chungthuc.Account) (out []int64) {
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	got, err := db.ListAccounts(ctx, u.ID)
	must(t, "ListAccounts", err)
	if !reflect.DeepEqual(ids(got), []int64{off.ID, clerk.ID}) || got[0].Username != "canbo" || got[0].Role != chungthuc.RoleOfficer {
		t.Fatalf("Accounts(HB) = %v", ids(got))
	}
	got, err = db.ListAccounts(ctx, 0)
	must(t, "ListAccounts all", err)
	if !reflect.DeepEqual(ids(got), []int64{off.ID, clerk.ID, far.ID, admin.ID}) {
		t.Fatalf("Accounts(all) = %v", ids(got))
	}
	if got, err := db.ListAccounts(ctx, other.ID+1000); err != nil || len(got) != 0 {
		t.Fatalf("Accounts(unknown unit) = %v, %v", got, err)
	}

	tok := func(unit, officer int64) *chungthuc.APIToken {
		tk := &chungthuc.APIToken{UnitID: unit, OfficerID: officer, Name: "một cửa", TokenHash: SecretHash()}
		must(t, "CreateAPIToken", db.CreateAPIToken(ctx, tk))
		return tk
	}
	t1, t2, tf := tok(u.ID, o.ID), tok(u.ID, o.ID), tok(other.ID, oo.ID)
	must(t, "RevokeAPIToken", db.RevokeAPIToken(ctx, t2.ID, time.Now()))
	ts, err := db.ListAPITokens(ctx, u.ID)
	must(t, "ListAPITokens", err)
	if len(ts) != 2 || ts[0].ID != t1.ID || ts[1].ID != t2.ID || !ts[0].RevokedAt.IsZero() || ts[1].RevokedAt.IsZero() || ts[0].TokenHash != t1.TokenHash {
		t.Fatalf("APITokens(HB) = %+v", ts)
	}
	if ts, err := db.ListAPITokens(ctx, 0); err != nil || len(ts) != 3 {
		t.Fatalf("APITokens(all) = %d, %v", len(ts), err)
	}

	sess := func(a *chungthuc.Account) *chungthuc.Session {
		s := &chungthuc.Session{TokenHash: SecretHash(), AccountID: a.ID, CSRFToken: Token(), ExpiresAt: time.Now().Add(time.Hour)}
		must(t, "CreateSession", db.CreateSession(ctx, s))
		return s
	}
	so, sc := sess(off), sess(clerk)
	must(t, "SetAccountDisabled", db.SetAccountDisabled(ctx, off.ID, true))
	if a, err := db.AccountByID(ctx, off.ID); err != nil || !a.Disabled {
		t.Fatalf("after disable: %+v, %v", a, err)
	}
	_, err = db.SessionByHash(ctx, so.TokenHash)
	code(t, "session of a disabled account", err, chungthuc.ENOTFOUND)
	if _, err := db.SessionByHash(ctx, sc.TokenHash); err != nil {
		t.Fatalf("disabling one account ended another's session: %v", err)
	}
	for _, c := range []struct {
		tk      *chungthuc.APIToken
		revoked bool
	}{{t1, true}, {t2, true}, {tf, false}} {
		got, err := db.APITokenByHash(ctx, c.tk.TokenHash)
		must(t, "APITokenByHash", err)
		if got.RevokedAt.IsZero() == c.revoked {
			t.Fatalf("token %d revoked = %v, want %v", c.tk.ID, !got.RevokedAt.IsZero(), c.revoked)
		}
	}
	must(t, "SetAccountDisabled enable", db.SetAccountDisabled(ctx, off.ID, false))
	if a, _ := db.AccountByID(ctx, off.ID); a.Disabled {
		t.Fatal("enable left the account disabled")
	}
	if got, _ := db.APITokenByHash(ctx, t1.TokenHash); got.RevokedAt.IsZero() {
		t.Fatal("enabling restored a revoked token")
	}
	code(t, "disable unknown", db.SetAccountDisabled(ctx, admin.ID+1000, true), chungthuc.ENOTFOUND)
	before := entries(t, db.r)
	must(t, "SetAccountDisabled", db.SetAccountDisabled(ctx, clerk.ID, true))
	must(t, "SetAccountDisabled enable", db.SetAccountDisabled(ctx, clerk.ID, false))
	if n := entries(t, db.r) - before; n != 2 {
		t.Fatalf("disable + enable appended %d audit entries, want 2", n)
	}
}
