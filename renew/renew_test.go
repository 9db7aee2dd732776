package renew

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/fs"
)

var now = time.Date(2030, 6, 1, 9, 0, 0, 0, chungthuc.Vietnam)

// fakeRegister holds entries in memory and records versions.
type fakeRegister struct {
	units    []*chungthuc.Unit
	entries  []*chungthuc.Certification
	versions map[string]int64 // sha → entry
}

func (r *fakeRegister) Units(context.Context) ([]*chungthuc.Unit, error) { return r.units, nil }

func (r *fakeRegister) Certifications(_ context.Context, f chungthuc.CertificationFilter) ([]*chungthuc.Certification, int, error) {
	var all []*chungthuc.Certification
	for _, c := range r.entries {
		if c.UnitID == f.UnitID && c.Status == f.Status {
			all = append(all, c)
		}
	}
	end := min(f.Offset+f.Limit, len(all))
	if f.Offset >= len(all) {
		return nil, len(all), nil
	}
	return all[f.Offset:end], len(all), nil
}

func (r *fakeRegister) AddVersion(_ context.Context, id int64, sha, key string) error {
	if _, dup := r.versions[sha]; dup {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "hash already registered")
	}
	r.versions[sha] = id
	return nil
}

// fakeAudit records entries, or fails.
type fakeAudit struct {
	entries []*chungthuc.AuditEntry
	err     error
}

func (a *fakeAudit) Append(_ context.Context, e *chungthuc.AuditEntry) error {
	if a.err != nil {
		return a.err
	}
	a.entries = append(a.entries, e)
	return nil
}

// A "PDF" here is text; every "%%DTS expires=RFC3339" line is a document time-stamp, the
// last one the newest.
type fakeInspector struct{}

func (fakeInspector) DocumentTimestampExpiry(_ context.Context, pdf []byte, _ time.Time) (time.Time, bool, error) {
	i := bytes.LastIndex(pdf, []byte("%%DTS expires="))
	if i < 0 {
		return time.Time{}, false, nil
	}
	line, _, _ := strings.Cut(string(pdf[i+len("%%DTS expires="):]), "\n")
	t, err := time.Parse(time.RFC3339, line)
	return t, true, err
}

// fakeStamper appends a time-stamp valid for ten years, or does something wrong.
type fakeStamper struct {
	rewrite bool
	calls   int
}

func (s *fakeStamper) AddDocumentTimestamp(_ context.Context, pdf []byte) ([]byte, error) {
	s.calls++
	out := append(bytes.Clone(pdf), fmt.Sprintf("%%%%DTS expires=%s\n", now.AddDate(10, 0, s.calls).Format(time.RFC3339))...)
	if s.rewrite {
		out[0] = 'X'
	}
	return out, nil
}

type env struct {
	svc     *Service
	reg     *fakeRegister
	objects *fs.Store
	audit   *fakeAudit
	stamper *fakeStamper
}

// newEnv stores two issued copies of unit HB: one with a time-stamp expiring in a year, one
// with a time-stamp expiring in 20 years.
func newEnv(t *testing.T) *env {
	t.Helper()
	objs, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = objs.Close() })
	e := &env{reg: &fakeRegister{versions: map[string]int64{}}, objects: objs, audit: &fakeAudit{}, stamper: &fakeStamper{}}
	e.reg.units = []*chungthuc.Unit{{ID: 1, Code: "HB"}}
	for i, exp := range []time.Time{now.AddDate(1, 0, 0), now.AddDate(20, 0, 0)} {
		pdf := []byte(fmt.Sprintf("%%PDF-1.7 copy %d\n%%%%DTS expires=%s\n", i+1, exp.Format(time.RFC3339)))
		sum := sha256hex(pdf)
		key := "copies/" + sum + ".pdf"
		info, err := objs.Put(context.Background(), key, bytes.NewReader(pdf), int64(len(pdf)), sum)
		if err != nil {
			t.Fatal(err)
		}
		e.reg.entries = append(e.reg.entries, &chungthuc.Certification{ID: int64(i + 1), UnitID: 1, Number: int64(i + 1), Year: 2030,
			Status: chungthuc.StatusIssued, SHA256: sum, ObjectKey: key, ObjectVersion: info.Version})
	}
	e.svc = &Service{Register: e.reg, Objects: objs, Audit: e.audit, Inspector: fakeInspector{}, Stamper: e.stamper,
		Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return e
}

func (e *env) read(t *testing.T, key string) []byte {
	t.Helper()
	b, err := e.svc.read(context.Background(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunRenewsWhatIsDue: only the copy whose time-stamp expires within "before" is due; a
// dry run changes nothing; a run stores a version that extends the copy, registers it and
// audits it; the next run extends that version, not the original.
func TestRunRenewsWhatIsDue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dry, err := e.svc.Run(ctx, 2*365*24*time.Hour, true)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Checked != 2 || dry.Due != 1 || dry.Renewed != 0 || dry.Items[0].ID != 1 || dry.Items[0].NewKey != "" || e.stamper.calls != 0 {
		t.Fatalf("dry run: %+v", dry)
	}
	if !strings.Contains(dry.Items[0].Reason, "expires 2031-06-01") {
		t.Fatalf("reason: %q", dry.Items[0].Reason)
	}
	rep, err := e.svc.Run(ctx, 2*365*24*time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	it := rep.Items[0]
	if rep.Due != 1 || rep.Renewed != 1 || rep.Failed != 0 || it.OldSHA256 != e.reg.entries[0].SHA256 {
		t.Fatalf("run: %+v", rep)
	}
	if it.NewKey != Prefix+e.reg.entries[0].SHA256+"/"+it.NewSHA256+".pdf" || e.reg.versions[it.NewSHA256] != 1 {
		t.Fatalf("version not stored or registered: %+v %v", it, e.reg.versions)
	}
	v1 := e.read(t, it.NewKey)
	if !bytes.HasPrefix(v1, e.read(t, e.reg.entries[0].ObjectKey)) || sha256hex(v1) != it.NewSHA256 {
		t.Fatal("the version does not extend the registered copy")
	}
	if len(e.audit.entries) != 1 || e.audit.entries[0].Action != "archive.renew" || e.audit.entries[0].Subject != "certification:1" ||
		!strings.Contains(e.audit.entries[0].Detail, it.NewSHA256) {
		t.Fatalf("audit: %+v", e.audit.entries)
	}
	// Due within 25 years: both now; copy 1 is renewed from its newest version.
	rep, err = e.svc.Run(ctx, 25*365*24*time.Hour, false)
	if err != nil || rep.Renewed != 2 {
		t.Fatalf("second run: %+v %v", rep, err)
	}
	if rep.Items[0].OldSHA256 != it.NewSHA256 {
		t.Fatalf("second renewal of copy 1 started from %s, want the first version %s", rep.Items[0].OldSHA256, it.NewSHA256)
	}
}

// TestLatestVersionIgnoresForeignObjects: an object under the copy's renewals whose content
// does not match its name, or that does not extend the copy, is skipped.
func TestLatestVersionIgnoresForeignObjects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.reg.entries[0]
	forged := []byte("%PDF-1.7 something else entirely, and longer than the copy\n")
	sum := sha256hex(forged)
	if _, err := e.objects.Put(ctx, Prefix+c.SHA256+"/"+sum+".pdf", bytes.NewReader(forged), int64(len(forged)), sum); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.latestVersion(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if sha256hex(got) != c.SHA256 {
		t.Fatal("a version that does not extend the copy was taken")
	}
}

// TestRunFailures: each failure is the copy's Item, the run goes on; Due reports the first.
func TestRunFailures(t *testing.T) {
	ctx := context.Background()
	year := 365 * 24 * time.Hour

	e := newEnv(t)
	e.svc.Stamper = nil
	if _, err := e.svc.Run(ctx, 30*year, false); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Fatalf("no TSA: %v", err)
	}
	if rep, err := e.svc.Run(ctx, 30*year, true); err != nil || rep.Due != 2 {
		t.Fatalf("no TSA, dry run: %+v %v", rep, err)
	}

	e = newEnv(t)
	e.stamper.rewrite = true
	rep, err := e.svc.Run(ctx, 30*year, false)
	if err != nil || rep.Failed != 2 || rep.Renewed != 0 || !strings.Contains(rep.Items[0].Error, "rewrote earlier bytes") || len(e.reg.versions) != 0 {
		t.Fatalf("rewriting stamper: %+v %v", rep, err)
	}

	e = newEnv(t)
	e.audit.err = chungthuc.Errorf(chungthuc.EUNAVAILABLE, "audit log down")
	n, err := e.svc.Due(ctx, 30*year)
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE || n != 0 || !strings.Contains(chungthuc.ErrorMessage(err), "audit log down") {
		t.Fatalf("audit failure: %d %v", n, err)
	}

	e = newEnv(t)
	e.reg.entries[1].SHA256 = strings.Repeat("0", 64) // the register and the store disagree
	rep, err = e.svc.Run(ctx, 30*year, false)
	if err != nil || rep.Renewed != 1 || rep.Failed != 1 || !strings.Contains(rep.Items[1].Error, "does not match the register") {
		t.Fatalf("hash mismatch: %+v %v", rep, err)
	}

	e = newEnv(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.svc.Run(cctx, 30*year, false); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
