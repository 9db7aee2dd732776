package registertest

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// testSignatureWaits: an entry signed outside the service waits officer_signature → seal →
// closed with its state and deadline, audited; Pending (fsck's list) leaves it alone; the
// expiry list finds it after its deadline; void or issue close the wait and drop the state;
// an entry waiting for the officer cannot be issued; the schema refuses any other move.
func testSignatureWaits(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	u2 := newUnit(t, r, "XA")
	o := newOfficer(t, r, u.ID)
	o2 := newOfficer(t, r, u2.ID)
	a := reserve(t, r, entry(u, o, vn(2026, 5, 1, 9, 0)))
	b := reserve(t, r, entry(u, o, vn(2026, 5, 1, 9, 5)))
	c := reserve(t, r, entry(u2, o2, vn(2026, 5, 1, 9, 10)))
	plain := reserve(t, r, entry(u, o, vn(2026, 5, 1, 9, 15)))
	base := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)

	_, err := r.SignatureWait(ctx, a.ID)
	code(t, "SignatureWait before any", err, chungthuc.ENOTFOUND)
	for _, bad := range []*chungthuc.SignatureWait{
		{CertificationID: a.ID, Step: chungthuc.StepClosed, ExpiresAt: base, State: []byte("x")},
		{CertificationID: a.ID, Step: chungthuc.StepOfficerSignature, ExpiresAt: base},
		{CertificationID: a.ID, Step: chungthuc.StepOfficerSignature, State: []byte("x")},
	} {
		code(t, "AwaitSignature "+string(bad.Step), r.AwaitSignature(ctx, bad, "officer:1"), chungthuc.EINVALID)
	}
	code(t, "AwaitSignature without actor", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: a.ID,
		Step: chungthuc.StepOfficerSignature, ExpiresAt: base, State: []byte("x")}, ""), chungthuc.EINVALID)
	code(t, "AwaitSignature unknown entry", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: 99999,
		Step: chungthuc.StepOfficerSignature, ExpiresAt: base, State: []byte("x")}, "officer:1"), chungthuc.ENOTFOUND)
	// The seal step cannot come first.
	code(t, "seal before officer", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: a.ID,
		Step: chungthuc.StepSeal, ExpiresAt: base, State: []byte("x")}, "officer:1"), chungthuc.ECONFLICT)

	before := entries(t, r)
	wa := &chungthuc.SignatureWait{CertificationID: a.ID, Step: chungthuc.StepOfficerSignature, ExpiresAt: base.Add(time.Hour), State: []byte("state-a1")}
	must(t, "AwaitSignature a", r.AwaitSignature(ctx, wa, "officer:"+strconv.FormatInt(o.ID, 10)))
	if wa.UnitID != u.ID || wa.UpdatedAt.IsZero() {
		t.Fatalf("AwaitSignature left %+v", wa)
	}
	if entries(t, r) != before+1 {
		t.Fatal("a wait was not audited")
	}
	must(t, "AwaitSignature b", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: b.ID,
		Step: chungthuc.StepOfficerSignature, ExpiresAt: base.Add(30 * time.Minute), State: []byte("state-b")}, "officer:1"))
	must(t, "AwaitSignature c", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: c.ID,
		Step: chungthuc.StepOfficerSignature, ExpiresAt: base.Add(2 * time.Hour), State: []byte("state-c")}, "officer:1"))
	code(t, "a second officer wait", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: a.ID,
		Step: chungthuc.StepOfficerSignature, ExpiresAt: base, State: []byte("x")}, "officer:1"), chungthuc.ECONFLICT)

	got, err := r.SignatureWait(ctx, a.ID)
	must(t, "SignatureWait a", err)
	if got.Step != chungthuc.StepOfficerSignature || !got.ExpiresAt.Equal(base.Add(time.Hour)) || !bytes.Equal(got.State, []byte("state-a1")) || got.UnitID != u.ID {
		t.Fatalf("SignatureWait a = %+v", got)
	}
	// fsck's Pending list leaves waiting entries alone; the plain pending one is there.
	ps, err := r.Pending(ctx, time.Now().Add(time.Hour))
	must(t, "Pending", err)
	if len(ps) != 1 || ps[0].ID != plain.ID {
		t.Fatalf("Pending lists %d entries, want only the one not waiting", len(ps))
	}
	// An entry waiting for the officer cannot be issued, even sealed.
	must(t, "Seal a", r.Seal(ctx, a.ID, SHA(a.Token), "copies/"+SHA(a.Token)+".pdf", nil))
	if err := r.Issue(ctx, a.ID, "", ""); err == nil {
		t.Fatal("an entry waiting for the officer's signature was issued")
	}
	// Advance a to the seal: new state and deadline.
	must(t, "AwaitSignature a seal", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: a.ID,
		Step: chungthuc.StepSeal, ExpiresAt: base.Add(3 * time.Hour), State: []byte("state-a2")}, "officer:1"))
	code(t, "seal twice", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: a.ID,
		Step: chungthuc.StepSeal, ExpiresAt: base, State: []byte("x")}, "officer:1"), chungthuc.ECONFLICT)
	got, err = r.SignatureWait(ctx, a.ID)
	must(t, "SignatureWait a at seal", err)
	if got.Step != chungthuc.StepSeal || !got.ExpiresAt.Equal(base.Add(3*time.Hour)) || string(got.State) != "state-a2" {
		t.Fatalf("SignatureWait a at seal = %+v", got)
	}
	// Listings.
	ws, err := r.SignatureWaits(ctx, u.ID, "", 0)
	must(t, "SignatureWaits unit", err)
	if len(ws) != 2 || ws[0].CertificationID != b.ID || ws[1].CertificationID != a.ID || ws[0].State != nil || ws[1].State != nil {
		t.Fatalf("SignatureWaits of the unit = %+v", ws)
	}
	ws, err = r.SignatureWaits(ctx, u.ID, chungthuc.StepSeal, 10)
	must(t, "SignatureWaits seal", err)
	if len(ws) != 1 || ws[0].CertificationID != a.ID {
		t.Fatalf("SignatureWaits at the seal = %+v", ws)
	}
	ws, err = r.SignatureWaits(ctx, 0, "", 10)
	must(t, "SignatureWaits all", err)
	if len(ws) != 3 {
		t.Fatalf("SignatureWaits of all units = %d, want 3", len(ws))
	}
	ex, err := r.ExpiredWaits(ctx, base.Add(45*time.Minute), 10)
	must(t, "ExpiredWaits", err)
	if len(ex) != 1 || ex[0].CertificationID != b.ID || ex[0].State != nil {
		t.Fatalf("ExpiredWaits at +45m = %+v", ex)
	}
	ex, err = r.ExpiredWaits(ctx, base.Add(30*time.Minute), 10)
	must(t, "ExpiredWaits at the deadline", err)
	if len(ex) != 1 {
		t.Fatalf("ExpiredWaits at the deadline itself = %d, want 1", len(ex))
	}
	// Void closes b's wait and drops its state; the number stays used.
	must(t, "Void b", r.Void(ctx, b.ID, "Hết thời hạn chờ ký"))
	got, err = r.SignatureWait(ctx, b.ID)
	must(t, "SignatureWait b after void", err)
	if got.Step != chungthuc.StepClosed || got.State != nil {
		t.Fatalf("wait after void = %+v", got)
	}
	code(t, "AwaitSignature after void", r.AwaitSignature(ctx, &chungthuc.SignatureWait{CertificationID: b.ID,
		Step: chungthuc.StepSeal, ExpiresAt: base, State: []byte("x")}, "officer:1"), chungthuc.ECONFLICT)
	// Issue of a (at the seal step) closes its wait.
	must(t, "Issue a", r.Issue(ctx, a.ID, "", ""))
	got, err = r.SignatureWait(ctx, a.ID)
	must(t, "SignatureWait a after issue", err)
	if got.Step != chungthuc.StepClosed || got.State != nil {
		t.Fatalf("wait after issue = %+v", got)
	}
	ex, err = r.ExpiredWaits(ctx, base.Add(24*time.Hour), 10)
	must(t, "ExpiredWaits after closing", err)
	if len(ex) != 1 || ex[0].CertificationID != c.ID {
		t.Fatalf("ExpiredWaits after closing = %+v", ex)
	}
	// The schema refuses what the register would not do.
	x := raw(t, r)
	cid, aid := strconv.FormatInt(c.ID, 10), strconv.FormatInt(a.ID, 10)
	stateOfC := "(SELECT state FROM signature_waits WHERE certification_id = " + cid + ")"
	for _, q := range []string{
		"DELETE FROM signature_waits WHERE certification_id = " + cid,
		"UPDATE signature_waits SET step = 'officer_signature', state = " + stateOfC + " WHERE certification_id = " + aid,
		"UPDATE signature_waits SET unit_id = " + strconv.FormatInt(u.ID, 10) + " WHERE certification_id = " + cid,
		"INSERT INTO signature_waits (certification_id, unit_id, step, expires_at, state, updated_at) SELECT " +
			strconv.FormatInt(plain.ID, 10) + ", unit_id, 'seal', expires_at, state, updated_at FROM signature_waits WHERE certification_id = " + cid,
		"INSERT INTO signature_waits (certification_id, unit_id, step, expires_at, state, updated_at) SELECT " +
			strconv.FormatInt(plain.ID, 10) + ", unit_id, step, expires_at, state, updated_at FROM signature_waits WHERE certification_id = " + cid,
	} {
		if err := x.ExecSQL(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	entries(t, r)
}

// testUnitExternalSigning: the unit's seal certificate for a seal applied outside the
// service and its default mode are recorded, read back, audited, and removable.
func testUnitExternalSigning(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	if u.SealCertPEM != nil || u.ExternalSigning {
		t.Fatalf("a new unit signs externally: %+v", u)
	}
	code(t, "not a certificate", r.SetUnitExternalSigning(ctx, u.ID, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), true), chungthuc.EINVALID)
	code(t, "unknown unit", r.SetUnitExternalSigning(ctx, 99999, nil, true), chungthuc.ENOTFOUND)
	pemCert := testCert(t)
	before := entries(t, r)
	must(t, "SetUnitExternalSigning", r.SetUnitExternalSigning(ctx, u.ID, pemCert, true))
	if entries(t, r) != before+1 {
		t.Fatal("not audited")
	}
	got, err := r.UnitByCode(ctx, "HB")
	must(t, "UnitByCode", err)
	if !bytes.Equal(got.SealCertPEM, pemCert) || !got.ExternalSigning {
		t.Fatalf("unit after SetUnitExternalSigning: cert %d bytes, external %v", len(got.SealCertPEM), got.ExternalSigning)
	}
	must(t, "remove", r.SetUnitExternalSigning(ctx, u.ID, nil, false))
	got, err = r.UnitByID(ctx, u.ID)
	must(t, "UnitByID", err)
	if got.SealCertPEM != nil || got.ExternalSigning {
		t.Fatalf("unit after removing: %+v", got)
	}
}
