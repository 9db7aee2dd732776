package api

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/credentials"
	"github.com/chungthuc/chungthuc/internal/testpki"
)

// fakeRemote stands in for the CSC credentials (csc.Signers; the real client against the
// development server is driven end to end in cmd/chungthuc): one device per unit+officer
// ("HB/0" is the seal), one-time code "123456".
type fakeRemote struct {
	mu      sync.Mutex
	devices map[string]*chungthuc.SigningKey
	calls   []string
	// atProvider makes every credential one authorised at the provider's page (the
	// ProviderSigner methods below): the code "good" is accepted with a verifier it issued.
	atProvider bool
}

func (f *fakeRemote) AtProvider(unit string, officer int64) bool {
	return f.atProvider && f.Has(unit, officer)
}

func (f *fakeRemote) AuthorizeAt(unit string, officer int64, digest []byte, redirectURI, state string) (string, string, error) {
	return "https://provider.example/authorize?state=" + url.QueryEscape(state) + "&redirect_uri=" + url.QueryEscape(redirectURI), "verifier-" + state, nil
}

func (f *fakeRemote) SignWithCode(ctx context.Context, unit string, officer int64, digest []byte, code, redirectURI, verifier string) ([]byte, [][]byte, error) {
	if code != "good" || !strings.HasPrefix(verifier, "verifier-") {
		return nil, nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "the remote signing service did not accept the authorisation")
	}
	return f.Sign(ctx, unit, officer, digest, "123456")
}

func (f *fakeRemote) ProviderOrigin(string, int64) string { return "https://provider.example" }

func (f *fakeRemote) Has(unit string, officer int64) bool {
	_, ok := f.devices[fmt.Sprintf("%s/%d", unit, officer)]
	return ok
}

func (f *fakeRemote) Sign(_ context.Context, unit string, officer int64, digest []byte, otp string) ([]byte, [][]byte, error) {
	k := fmt.Sprintf("%s/%d", unit, officer)
	f.mu.Lock()
	f.calls = append(f.calls, k)
	f.mu.Unlock()
	if otp != "123456" {
		return nil, nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "the authorisation code was refused by the signing service: wrong OTP")
	}
	d := f.devices[k]
	v, err := d.Signer.Sign(rand.Reader, digest, crypto.SHA256)
	return v, [][]byte{d.Chain[0].Raw}, err
}

func (f *fakeRemote) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.calls...)
}

// signEnv is adminEnv with signing outside the service: HB's officers (canbo, and canbo2,
// another officer of HB) have registered device certificates, HB's seal too and signs
// outside by default; the "devices" are in-process keys; remote signing is the fake.
type signEnv struct {
	*env
	remote              *fakeRemote
	officerDev, sealDev *chungthuc.SigningKey
	other               *chungthuc.SigningKey // canbo2's device
}

func newSignEnv(t testing.TB) *signEnv {
	remote := &fakeRemote{devices: map[string]*chungthuc.SigningKey{}}
	e := newEnv(t, func(d *Deps) { d.Remote = remote; d.AgentURL = "http://127.0.0.1:8790" })
	ctx := context.Background()
	e.svc.External = maker
	e.svc.SignatureTimeout = time.Hour
	p := testpki.New()
	x := &signEnv{env: e, remote: remote, officerDev: p.Leaf(e.plOff.Name, e.pl.Name, "ecdsa"), sealDev: p.Leaf(e.pl.Name, e.pl.Name, "rsa"),
		other: p.Leaf("Đỗ Văn Hai", e.pl.Name, "ecdsa")}
	o2 := &chungthuc.Officer{UnitID: e.pl.ID, Name: "Đỗ Văn Hai", Title: "CHỦ TỊCH", Role: chungthuc.RoleOfficer, Active: true}
	if err := e.reg.CreateOfficer(ctx, o2); err != nil {
		t.Fatal(err)
	}
	hash, _ := credentials.HashPassword(e.password)
	for _, a := range []*chungthuc.Account{
		{UnitID: e.pl.ID, OfficerID: o2.ID, Username: "canbo2", Role: chungthuc.RoleOfficer, PasswordHash: hash},
		{UnitID: e.pl.ID, Username: "vanthu", Role: chungthuc.RoleClerk, PasswordHash: hash},
		{UnitID: e.tm.ID, Username: "vanthu.tm", Role: chungthuc.RoleClerk, PasswordHash: hash},
	} {
		if err := e.reg.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for id, k := range map[int64]*chungthuc.SigningKey{e.plOff.ID: x.officerDev, o2.ID: x.other} {
		if err := e.reg.SetOfficerCert(ctx, id, certs.EncodeCertificatePEM(k.Chain[0])); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.reg.SetUnitExternalSigning(ctx, e.pl.ID, certs.EncodeCertificatePEM(x.sealDev.Chain[0]), true); err != nil {
		t.Fatal(err)
	}
	remote.devices[fmt.Sprintf("HB/%d", e.plOff.ID)] = x.officerDev
	remote.devices["HB/0"] = x.sealDev
	return x
}

var digestRE = regexp.MustCompile(`id="digest-hex">([0-9a-f]{64})<`)

// device signs the digest shown on a signing page.
func device(t *testing.T, k *chungthuc.SigningKey, page string) string {
	t.Helper()
	m := digestRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no digest on the page:\n%s", page)
	}
	d, _ := hex.DecodeString(m[1])
	v, err := k.Signer.Sign(rand.Reader, d, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(v)
}

func (x *signEnv) state(t *testing.T, id int64) (chungthuc.Status, chungthuc.SignatureStep) {
	t.Helper()
	c, err := x.reg.CertificationByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	w, err := x.reg.SignatureWait(context.Background(), id)
	if err != nil {
		return c.Status, ""
	}
	return c.Status, w.Step
}

// TestWorkspaceSigning: the officer chooses "my device" in the certify form, lands on the
// signing page, is listed in "Chờ ký"; only they can sign it (not another officer of the
// unit, not the clerk, not another unit); a bad signature and a wrong one-time code leave it
// waiting; remote signing completes the officer's step; the clerk's queue lists it; the
// clerk's pasted seal signature issues it and the receipt shows the access code once.
func TestWorkspaceSigning(t *testing.T) {
	x := newSignEnv(t)
	base := x.srv.URL
	officer := x.loginAny("canbo")
	_, _, page, csrf := pageCSRF(t, officer, base+"/app/certify")
	if !strings.Contains(page, `value="external" checked`) || !strings.Contains(page, x.t2("SignDevice")) {
		t.Fatalf("certify form: no preselected device signing:\n%s", page)
	}
	// TM's officer has no device certificate: server only, explained.
	tmOfficer := x.loginAny("canbo.tm")
	if _, _, page, _ := pageCSRF(t, tmOfficer, base+"/app/certify"); !strings.Contains(page, `id="signing-device-none"`) || strings.Contains(page, `value="external"`) {
		t.Fatal("certify form of an officer without a device certificate offers it")
	}
	formKey := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(page)[1]
	send := func(file string) (int, string) {
		body, ct := multipartBody([][2]string{{"a.jpg", file}}, map[string]string{"csrf": csrf, "document": "Giấy khai sinh",
			"requester": "Nguyễn Thị Hồng Nhung", "signing": "external", "idempotency_key": formKey})
		req, _ := http.NewRequest("POST", base+"/app/certify", body)
		req.Header.Set("Content-Type", ct)
		res, err := officer.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	st, loc := send(string(scan))
	var id int64
	if _, err := fmt.Sscanf(loc, "/app/c/%d/sign", &id); st != 303 || err != nil {
		t.Fatalf("certify: %d %q", st, loc)
	}
	// The same form again (a reload, a double click): the same entry's signing page; with
	// other files: the first entry, which waits (not held for a minute as if still running).
	if st, again := send(string(scan)); st != 303 || again != loc {
		t.Fatalf("the form sent again: %d %q", st, again)
	}
	if st, again := send(string(scan) + "x"); st != 303 || again != fmt.Sprintf("/app/c/%d?again=1", id) {
		t.Fatalf("the form sent again with other files: %d %q", st, again)
	}
	signURL := fmt.Sprintf("%s/app/c/%d/sign", base, id)
	if st, step := x.state(t, id); st != chungthuc.StatusPending || step != chungthuc.StepOfficerSignature {
		t.Fatalf("after certify: %s %s", st, step)
	}
	// The page: what is signed, both methods, the agent allowed by the page's CSP.
	res, err := officer.Get(signURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.Contains(csp, "connect-src 'self' http://127.0.0.1:8790") {
		t.Fatalf("sign page: %d %q", res.StatusCode, csp)
	}
	_, _, page, _ = pageCSRF(t, officer, signURL)
	for _, want := range []string{`id="remote-form"`, `data-agent="http://127.0.0.1:8790"`, "/static/sign.js", "Giấy khai sinh", "Nguyễn Thị Hồng Nhung"} {
		if !strings.Contains(page, want) {
			t.Fatalf("sign page lacks %q", want)
		}
	}
	if _, _, en, _ := pageCSRF(t, officer, signURL+"?lang=en"); !strings.Contains(en, "Sign the copy") || !strings.Contains(en, "One-time code (OTP)") || !strings.Contains(en, "the certifying officer&#39;s signature") {
		t.Fatalf("the signing page in English:\n%s", en)
	}
	pageCSRF(t, officer, signURL+"?lang=vi") // back to Vietnamese (the choice is a cookie)
	// Queues and counts.
	if _, _, q, _ := pageCSRF(t, officer, base+"/app/to-sign"); !strings.Contains(q, fmt.Sprintf(`href="/app/c/%d/sign"`, id)) {
		t.Fatal("not in the officer's queue")
	}
	if _, _, d, _ := pageCSRF(t, officer, base+"/app/"); !regexp.MustCompile(`id="tile-to-sign">.*?<div class="v">1</div>`).MatchString(d) || strings.Contains(d, "tile-to-seal") {
		t.Fatal("dashboard count")
	}
	other, clerk, tmClerk := x.loginAny("canbo2"), x.loginAny("vanthu"), x.loginAny("vanthu.tm")
	if _, _, q, _ := pageCSRF(t, other, base+"/app/to-sign"); strings.Contains(q, fmt.Sprintf("/app/c/%d/sign", id)) {
		t.Fatal("another officer's entry in the queue")
	}
	for name, cl := range map[string]*http.Client{"other officer": other, "clerk": clerk} {
		if st, _, _, _ := pageCSRF(t, cl, signURL); st != 403 {
			t.Fatalf("%s opens the officer's signing page: %d", name, st)
		}
	}
	if st, _, _, _ := pageCSRF(t, tmClerk, signURL); st != 404 {
		t.Fatalf("another unit's clerk: %d", st)
	}
	if st, _, _, _ := pageCSRF(t, officer, base+"/app/to-seal"); st != 403 {
		t.Fatalf("officer's seal queue: %d", st)
	}
	// Refusals: nothing changes, the entry waits.
	csrfOf := func(cl *http.Client) string { _, _, _, c := pageCSRF(t, cl, base+"/app/password"); return c }
	oc, xc, cc := csrfOf(officer), csrfOf(other), csrfOf(clerk)
	post := func(cl *http.Client, path string, v url.Values) (int, string, string) {
		return postForm(t, cl, fmt.Sprintf("%s/app/c/%d/%s", base, id, path), v)
	}
	if st, _, p := post(officer, "signature", url.Values{"csrf": {oc}, "signature": {base64.StdEncoding.EncodeToString([]byte("not a signature"))}}); st != 400 || !strings.Contains(p, x.t2("sign.err.signature_invalid")) {
		t.Fatalf("garbage signature: %d", st)
	}
	if st, _, p := post(officer, "signature", url.Values{"csrf": {oc}, "signature": {device(t, x.other, page)}}); st != 400 || !strings.Contains(p, x.t2("sign.err.signature_invalid")) {
		t.Fatalf("another device's signature: %d", st)
	}
	if st, _, p := post(officer, "signature", url.Values{"csrf": {oc}, "signature": {device(t, x.other, page)},
		"chain": {string(certs.EncodeCertificatePEM(x.other.Chain[0]))}}); st != 403 || !strings.Contains(p, x.t2("sign.err.certificate_refused")) {
		t.Fatalf("another device's signature with its certificate: %d", st)
	}
	if st, _, _ := post(officer, "signature", url.Values{"csrf": {oc}, "signature": {""}}); st != 400 {
		t.Fatalf("empty signature: %d", st)
	}
	if st, _, p := post(other, "signature", url.Values{"csrf": {xc}, "signature": {device(t, x.officerDev, page)}}); st != 403 || !strings.Contains(p, x.t2("sign.err.role_not_allowed")) {
		t.Fatalf("another officer completes: %d", st)
	}
	if st, _, _ := post(clerk, "sign-remote", url.Values{"csrf": {cc}, "otp": {"123456"}}); st != 403 || len(x.remote.called()) != 0 {
		t.Fatalf("clerk asks the officer's credential: %d %v", st, x.remote.called())
	}
	if st, _, p := post(officer, "sign-remote", url.Values{"csrf": {oc}, "otp": {"000000"}}); st != 403 || !strings.Contains(p, x.t2("sign.err.otp")) {
		t.Fatalf("wrong OTP: %d", st)
	}
	if st, step := x.state(t, id); st != chungthuc.StatusPending || step != chungthuc.StepOfficerSignature {
		t.Fatalf("after the refusals: %s %s", st, step)
	}
	// The right code: signed, waiting for the seal.
	st, loc, _ = post(officer, "sign-remote", url.Values{"csrf": {oc}, "otp": {"123456"}})
	if st != 303 || loc != fmt.Sprintf("/app/c/%d?signed=1", id) {
		t.Fatalf("remote signing: %d %q", st, loc)
	}
	if _, _, p, _ := pageCSRF(t, officer, base+loc); !strings.Contains(p, x.t2("SignedWaitSeal")) || strings.Contains(p, `id="sign-link"`) {
		t.Fatal("entry page after the officer's step")
	}
	if st, step := x.state(t, id); st != chungthuc.StatusPending || step != chungthuc.StepSeal {
		t.Fatalf("after the officer's step: %s %s", st, step)
	}
	if got := x.remote.called(); len(got) != 2 || got[1] != fmt.Sprintf("HB/%d", x.plOff.ID) {
		t.Fatalf("remote calls: %v", got)
	}
	// The seal: only the clerk (or unit admin) of HB.
	if st, _, _, _ := pageCSRF(t, officer, signURL); st != 403 {
		t.Fatalf("officer opens the seal step: %d", st)
	}
	if _, _, q, _ := pageCSRF(t, clerk, base+"/app/to-seal"); !strings.Contains(q, fmt.Sprintf(`href="/app/c/%d/sign"`, id)) {
		t.Fatal("not in the clerk's queue")
	}
	if _, _, q, _ := pageCSRF(t, tmClerk, base+"/app/to-seal"); strings.Contains(q, fmt.Sprintf("/app/c/%d/", id)) {
		t.Fatal("in another unit's seal queue")
	}
	if st, _, p := post(officer, "signature", url.Values{"csrf": {oc}, "signature": {device(t, x.sealDev, page)}}); st != 403 || !strings.Contains(p, x.t2("sign.err.role_not_allowed")) {
		t.Fatalf("officer applies the seal: %d", st)
	}
	_, _, sealPage, _ := pageCSRF(t, clerk, signURL)
	st, loc, _ = post(clerk, "signature", url.Values{"csrf": {cc}, "signature": {device(t, x.sealDev, sealPage)},
		"chain": {base64.StdEncoding.EncodeToString(x.sealDev.Chain[0].Raw)}})
	if st != 303 || loc != fmt.Sprintf("/app/c/%d/receipt", id) {
		t.Fatalf("seal: %d %q", st, loc)
	}
	if st, step := x.state(t, id); st != chungthuc.StatusIssued || step != chungthuc.StepClosed {
		t.Fatalf("after the seal: %s %s", st, step)
	}
	_, _, receipt, _ := pageCSRF(t, clerk, base+loc)
	if !regexp.MustCompile(`<dd class="code">[A-Z0-9-]{6,}</dd>`).MatchString(receipt) {
		t.Fatalf("receipt without the access code:\n%s", receipt)
	}
	// Done: a second completion is refused in words.
	if st, _, p := post(clerk, "signature", url.Values{"csrf": {cc}, "signature": {device(t, x.sealDev, sealPage)}}); st != 409 || !strings.Contains(p, x.t2("sign.err.not_waiting")) {
		t.Fatalf("second completion: %d", st)
	}
	if _, _, q, _ := pageCSRF(t, clerk, base+"/app/to-seal"); !strings.Contains(q, `id="queue-empty"`) {
		t.Fatal("the issued entry is still queued")
	}
}

// t2 is the Vietnamese text of a message key, as the pages print it (HTML-escaped).
func (e *env) t2(key string) string {
	return strings.NewReplacer(`"`, "&#34;", "'", "&#39;", "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(messages["vi"][key])
}

// TestWorkspaceSigningExpired: past its deadline the signing page says the entry is void
// (its number kept), and the queue no longer lists it.
func TestWorkspaceSigningExpired(t *testing.T) {
	x := newSignEnv(t)
	x.svc.SignatureTimeout = time.Millisecond
	out, err := x.svc.Certify(context.Background(), certifyInputPL(x.plOff.ID, "external"))
	if err != nil || out.Awaiting == nil {
		t.Fatalf("certify: %v", err)
	}
	time.Sleep(20 * time.Millisecond)
	officer := x.loginAny("canbo")
	st, _, page, _ := pageCSRF(t, officer, fmt.Sprintf("%s/app/c/%d/sign", x.srv.URL, out.Certification.ID))
	if st != 409 || !strings.Contains(page, x.t2("sign.err.expired")) {
		t.Fatalf("expired: %d", st)
	}
	if c, err := x.reg.CertificationByID(context.Background(), out.Certification.ID); err != nil || c.Status != chungthuc.StatusVoid || c.Number != 1 {
		t.Fatalf("after expiry: %v %v", c, err)
	}
	if _, _, q, _ := pageCSRF(t, officer, x.srv.URL+"/app/to-sign"); !strings.Contains(q, `id="queue-empty"`) {
		t.Fatal("the void entry is still queued")
	}
}

// certifyInputPL is a one-scan certification by HB's officer with signing mode.
func certifyInputPL(officerID int64, signing string) certify.Input {
	return certify.Input{UnitCode: "HB", OfficerID: officerID, DocTitle: "Giấy khai sinh", Requester: "Nguyễn Thị Hồng Nhung",
		Scans: []chungthuc.Scan{{Name: "a.jpg", Data: scan}}, KeepScans: true, Signing: signing}
}

// BenchmarkWorkspaceSignature: completing the officer's step from the workspace (the
// signing page's form, session + CSRF, 303) against its peer, the JSON API's
// POST /api/v1/certifications/{id}/signature (bearer token, 202 JSON), on identical
// waiting entries signed by the same device. Only the completion is timed; both run
// certify.Service.CompleteSignature (preparing the seal), so the difference is the web
// layer's.
func BenchmarkWorkspaceSignature(b *testing.B) {
	x := newSignEnv(b)
	officer := x.loginAny("canbo")
	_, _, _, csrf := pageCSRF(b, officer, x.srv.URL+"/app/password")
	ctx := context.Background()
	prepare := func() (int64, string) {
		out, err := x.svc.Certify(ctx, certifyInputPL(x.plOff.ID, "external"))
		if err != nil {
			b.Fatal(err)
		}
		v, err := x.officerDev.Signer.Sign(rand.Reader, out.Awaiting.ToSign.Digest, crypto.SHA256)
		if err != nil {
			b.Fatal(err)
		}
		return out.Certification.ID, base64.StdEncoding.EncodeToString(v)
	}
	b.Run("web-form", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			id, sig := prepare()
			b.StartTimer()
			if st, _, _ := postForm(b, officer, fmt.Sprintf("%s/app/c/%d/signature", x.srv.URL, id), url.Values{"csrf": {csrf}, "signature": {sig}}); st != 303 {
				b.Fatal(st)
			}
		}
	})
	b.Run("json-api", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			id, sig := prepare()
			b.StartTimer()
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/certifications/%d/signature", x.srv.URL, id), strings.NewReader(`{"signature":"`+sig+`"}`))
			req.Header.Set("Authorization", "Bearer "+x.plToken)
			req.Header.Set("Content-Type", "application/json")
			if res, _ := x.do(req); res.StatusCode != 202 {
				b.Fatal(res.StatusCode)
			}
		}
	})
}
