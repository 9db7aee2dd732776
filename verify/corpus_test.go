package verify_test

// Agreement with other producers' test suites (REPORT.md, "Agreement with other producers'
// test suites"). testdata/corpus/MANIFEST.tsv lists signed PDFs selected from the public
// test resources of pyHanko, iText and EU DSS, each with the verdict that project's own
// test asserts. TestCorpus runs the verifier on every entry and classifies the outcome:
//
//	agree         our verdict is the one they assert (at the level they assert it)
//	false_accept  they expect modified/invalid/indeterminate; we say TOTAL_PASSED or valid
//	missed        they expect modified/invalid; we are INDETERMINATE for another reason
//	              and did not notice the modification or breakage they assert
//	false_reject  they expect intact; we say TOTAL_FAILED, or INDETERMINATE for a reason
//	              their test does not allow (and no policy rule of the entry explains)
//	policy        they expect intact; we differ for a documented, deliberate reason
//	              (corpusPolicies) that the entry names
//
// The test fails on every entry that is neither agree nor policy: a false accept, a missed
// modification or a false reject is fixed in the verifier, or — when we differ on purpose —
// explained by a documented policy rule (corpusPolicies) that the entry names. There is no
// list of tolerated failures.
// CORPUS_TABLE=file writes the per-source counts table; CORPUS_DUMP=dir writes each JSON
// report. TestCorpusPdfsig runs poppler's pdfsig on the same files.

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc/verify"
)

const corpusDir = "testdata/corpus"

// corpusEntry is one line of MANIFEST.tsv.
type corpusEntry struct {
	ID, Source, Repo, Commit, Path string
	SHA256                         string
	Test                           string // file:line (method) that asserts the verdict
	Expect                         string // clauses, see parseExpect
	Trust                          string // "embedded", "roots:a.pem,b.pem", "none", or "embedded+roots:…"
	TrustAsserted                  bool   // their test asserts the chain is trusted
	Now                            string // "signing" or an RFC 3339 time / date
	Policy                         []string
	Note                           string
}

func (e corpusEntry) file() string { return filepath.Join(corpusDir, e.ID+".pdf") }

var corpusColumns = []string{"id", "source", "repo", "commit", "path", "sha256", "test", "expect",
	"trust", "trust_asserted", "now", "policy", "note"}

func readManifest(t testing.TB) []corpusEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	seen := map[string]bool{}
	for sc.Scan() {
		line++
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := strings.Split(l, "\t")
		if c[0] == "id" {
			if strings.Join(c, ",") != strings.Join(corpusColumns, ",") {
				t.Fatalf("MANIFEST.tsv header %v, want %v", c, corpusColumns)
			}
			continue
		}
		if len(c) != len(corpusColumns) {
			t.Fatalf("MANIFEST.tsv:%d: %d columns, want %d", line, len(c), len(corpusColumns))
		}
		e := corpusEntry{ID: c[0], Source: c[1], Repo: c[2], Commit: c[3], Path: c[4], SHA256: c[5],
			Test: c[6], Expect: c[7], Trust: c[8], TrustAsserted: c[9] == "yes", Now: c[10], Note: c[12]}
		if c[11] != "" && c[11] != "-" {
			e.Policy = strings.Split(c[11], ",")
		}
		for _, p := range e.Policy {
			if _, ok := corpusPolicies[p]; !ok {
				t.Fatalf("MANIFEST.tsv:%d: unknown policy %q", line, p)
			}
		}
		if seen[e.ID] {
			t.Fatalf("MANIFEST.tsv:%d: duplicate id %s", line, e.ID)
		}
		seen[e.ID] = true
		if _, err := parseExpect(e.Expect); err != nil {
			t.Fatalf("MANIFEST.tsv:%d: %v", line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectClause is one "scope=verdict" of the expect column. Scopes: "doc" (the file as a
// whole: what a document-level validator such as iText's DocumentRevisionsValidator
// asserts), "all" (every signature), "last" (the last signature or document time-stamp),
// "N" (the N-th signature in signing order, 1-based),
// "field:NAME" (the signature in field NAME). Verdicts: intact (intact, and no
// modification their policy disallows), modified (intact over its revision, but a later
// revision makes it unacceptable), unmodified (their test asserts only that no later
// revision makes a change their policy disallows, not the signature's integrity: a
// revisions validator), invalid (broken, malformed, or not acceptable as it
// stands, e.g. non-standard coverage), indeterminate (neither, for a reason other than
// trust).
type expectClause struct {
	scope, verdict string
}

func parseExpect(s string) ([]expectClause, error) {
	var out []expectClause
	for _, c := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(c), "=")
		if !ok {
			return nil, fmt.Errorf("expect clause %q: want scope=verdict", c)
		}
		switch v {
		case "intact", "unmodified", "modified", "invalid", "indeterminate":
		default:
			return nil, fmt.Errorf("expect clause %q: unknown verdict", c)
		}
		if k != "doc" && k != "all" && k != "last" && !strings.HasPrefix(k, "field:") {
			if n, err := strconv.Atoi(k); err != nil || n < 1 {
				return nil, fmt.Errorf("expect clause %q: unknown scope", c)
			}
		}
		out = append(out, expectClause{k, v})
	}
	return out, nil
}

// corpusPolicy is a deliberate difference: where they expect intact, an outcome in allowed
// is ours by design.
type corpusPolicy struct {
	why     string
	allowed [][2]string // indication, sub-indication
	// For modification policies (TOTAL_FAILED/MODIFIED_AFTER_SIGNING): a failed check
	// the rule explains by itself, and a disallowed change it explains. The signature is
	// "policy" only when the entry's rules together explain every failed check and every
	// disallowed change ("modifications" and "docmdp" are explained by their changes).
	check  func(c verify.Check) bool
	change func(c verify.Change) bool
}

// corpusPolicies are the documented reasons we deliberately differ (REPORT.md lists them).
var corpusPolicies = map[string]corpusPolicy{
	"sha1": {"SHA-1/MD5 digests and adbe.pkcs7.sha1 are weak: INDETERMINATE (no POE), never TOTAL_PASSED",
		[][2]string{{verify.Indeterminate, verify.SubCryptoConstraints}}, nil, nil},
	"weak-key": {"RSA keys under 2048 bits and EC keys under 256 bits are weak: INDETERMINATE",
		[][2]string{{verify.Indeterminate, verify.SubCryptoConstraints}}, nil, nil},
	"unsupported-algorithm": {"an algorithm we do not implement (Ed448, SHAKE, SHA-3, DSA, brainpool…) cannot be checked: INDETERMINATE, as ETSI EN 319 102-1 says for an algorithm the validator does not support",
		[][2]string{{verify.Indeterminate, verify.SubCryptoConstraints}, {verify.Indeterminate, "CRYPTO_CONSTRAINTS_FAILURE"}}, nil, nil},
	"expired-no-poe": {"their test trusts a certificate at a time no time-stamp proves: INDETERMINATE/OUT_OF_BOUNDS_NO_POE",
		[][2]string{{verify.Indeterminate, verify.SubOutOfBoundsNoPOE}}, nil, nil},
	"overlay": {"a later signature's visible appearance is placed over what an earlier revision painted (iText's tests stack every signature at the same /Rect): we call it a modification of the earlier signatures (the sneaky-signature rule, REPORT.md); their validators do not look at appearances",
		nil, nil, func(c verify.Change) bool {
			return strings.Contains(c.Detail, "paints over content of the signed revision")
		}},
	"unsigned-revision": {"the file continues after the last signature with more than validation data (an unsigned revision, or /Info updated along with the DSS): the last signature must cover everything a reader is shown, so it fails coverage (and P=1 forbids the metadata change)",
		nil, func(c verify.Check) bool {
			return c.Name == "coverage" || c.Name == "docmdp" && strings.Contains(c.Detail, "forbids metadata changes")
		}, nil},
	"form-filling": {"a form field other than a signature is filled after signing (new /V and appearance): our copies carry no fillable fields, and a changed value changes the text shown, so we report it as a modification at every DocMDP level",
		nil, nil, func(c verify.Change) bool {
			return c.Category == "form" && (strings.Contains(c.Detail, "form field value or widget was changed") || c.Detail == "form changed after signing") ||
				c.Category == "content" && c.Detail == "content changed after signing"
		}},
	"annotations": {"annotations (comments, text notes, widgets of other fields) are added, changed or removed after signing, allowed by their DocMDP P=3 policy: we report any change of what a page shows as a modification, annotations included",
		nil, nil, func(c verify.Change) bool {
			switch c.Category {
			case "annotation":
				return !strings.Contains(c.Detail, "paints over")
			case "page", "form":
				return strings.Contains(c.Detail, "field or annotation")
			case "structure":
				return strings.Contains(c.Detail, "lost or reordered a kid")
			}
			return false
		}},
}

// policyExplains reports whether the entry's modification rules explain every failed check
// and every disallowed change of s.
func policyExplains(e corpusEntry, s *verify.SignatureReport) bool {
	if s.Indication != verify.TotalFailed || s.SubIndication != verify.SubModifiedAfterSigning {
		return false
	}
	hasRule := false
	for _, p := range e.Policy {
		if corpusPolicies[p].check != nil || corpusPolicies[p].change != nil {
			hasRule = true
		}
	}
	if !hasRule {
		return false
	}
	changeOK := func(c verify.Change) bool {
		for _, p := range e.Policy {
			if f := corpusPolicies[p].change; f != nil && f(c) {
				return true
			}
		}
		return false
	}
	changesOK := true
	for _, c := range s.ChangesAfter {
		if !c.Allowed && !changeOK(c) {
			changesOK = false
		}
	}
	for _, c := range s.Checks {
		if c.Status != verify.CheckFailed {
			continue
		}
		explained := false
		for _, p := range e.Policy {
			if f := corpusPolicies[p].check; f != nil && f(c) {
				explained = true
			}
		}
		if !explained && (c.Name == "modifications" || c.Name == "docmdp" && strings.Contains(c.Detail, "changed (")) && changesOK {
			explained = true
		}
		if !explained {
			return false
		}
	}
	return changesOK
}

// trustFamily are the sub-indications that only say "the chain could not be trusted (at
// this time)": they agree with an "intact" verdict when their test does not assert trust.
var trustFamily = map[string]bool{
	verify.SubNoCertificateChain:  true,
	verify.SubChainGeneralFailure: true,
	verify.SubOutOfBoundsNoPOE:    true,
	"OUT_OF_BOUNDS_NOT_REVOKED":   true,
	verify.SubNotYetValid:         true,
	verify.SubTryLater:            true,
	verify.SubRevokedNoPOE:        true,
}

// Outcome categories, worst first.
const (
	catFalseAccept = "false_accept"
	catMissed      = "missed"
	catFalseReject = "false_reject"
	catPolicy      = "policy"
	catAgree       = "agree"
)

var catRank = map[string]int{catFalseAccept: 0, catMissed: 1, catFalseReject: 2, catPolicy: 3, catAgree: 4}

type outcome struct {
	cat    string
	detail string
}

func worse(a, b outcome) outcome {
	if catRank[b.cat] < catRank[a.cat] {
		return b
	}
	return a
}

func sigLabel(s *verify.SignatureReport) string {
	l := fmt.Sprintf("#%d", s.Index)
	if s.Field != "" {
		l += " " + s.Field
	}
	l += " " + s.Indication
	if s.SubIndication != "" {
		l += "/" + s.SubIndication
	}
	return l
}

// flagged: our report itself found what a modified/invalid verdict asserts.
func flagged(s *verify.SignatureReport) bool {
	return s.ModifiedAfterSigning || s.Integrity == "broken" || (s.DocMDP != nil && s.DocMDP.Violated)
}

func judgeSig(e corpusEntry, s *verify.SignatureReport, verdict string) outcome {
	lab := sigLabel(s)
	switch verdict {
	case "intact":
		if s.Indication == verify.TotalPassed {
			return outcome{catAgree, lab}
		}
		if s.Indication == verify.Indeterminate && !e.TrustAsserted && trustFamily[s.SubIndication] {
			return outcome{catAgree, lab + " (trust not asserted by their test)"}
		}
		for _, p := range e.Policy {
			for _, a := range corpusPolicies[p].allowed {
				if s.Indication == a[0] && s.SubIndication == a[1] {
					return outcome{catPolicy, lab + " (policy " + p + ")"}
				}
			}
		}
		if policyExplains(e, s) {
			return outcome{catPolicy, lab + " (policy " + strings.Join(e.Policy, "+") + ")"}
		}
		return outcome{catFalseReject, lab + ": " + firstFailure(s)}
	case "unmodified":
		if s.Indication == verify.TotalFailed && s.SubIndication != verify.SubModifiedAfterSigning {
			return outcome{catAgree, lab + " (integrity not asserted by their test)"}
		}
		return judgeSig(e, s, "intact")
	case "modified", "invalid":
		switch {
		case s.Indication == verify.TotalFailed:
			return outcome{catAgree, lab}
		case s.Indication == verify.TotalPassed:
			return outcome{catFalseAccept, lab + ": they expect " + verdict}
		case flagged(s):
			return outcome{catAgree, lab + " (modification flagged)"}
		}
		return outcome{catMissed, lab + ": they expect " + verdict + "; " + firstFailure(s)}
	default: // indeterminate
		if s.Indication == verify.TotalPassed {
			return outcome{catFalseAccept, lab + ": they expect indeterminate"}
		}
		if s.Indication == verify.TotalFailed {
			return outcome{catAgree, lab + " (stricter: they say INDETERMINATE)"}
		}
		return outcome{catAgree, lab}
	}
}

// firstFailure lists the failed (else unknown) checks of a signature, details shortened.
func firstFailure(s *verify.SignatureReport) string {
	for _, want := range []string{verify.CheckFailed, verify.CheckUnknown} {
		var l []string
		for _, c := range s.Checks {
			if c.Status == want {
				d := c.Detail
				if len(d) > 200 {
					d = d[:200] + "…"
				}
				l = append(l, c.Name+": "+d)
			}
		}
		if len(l) > 0 {
			return strings.Join(l, " | ")
		}
	}
	return "no failed check"
}

// onlyCoverage: every failed check of s is "coverage" (the last signature does not cover
// the file), i.e. the specific change their test forbids was not itself detected.
func onlyCoverage(s *verify.SignatureReport) bool {
	n := 0
	for _, c := range s.Checks {
		if c.Status == verify.CheckFailed {
			if c.Name != "coverage" {
				return false
			}
			n++
		}
	}
	return n > 0
}

func docFailure(r *verify.Report) string {
	for _, c := range r.Checks {
		if c.Status == verify.CheckFailed && c.Name != "signatures" {
			return c.Name + ": " + c.Detail
		}
	}
	return ""
}

// policyExplainsDoc reports whether the entry's rules explain every failed document check.
func policyExplainsDoc(e corpusEntry, r *verify.Report) bool {
	for _, c := range r.Checks {
		if c.Status != verify.CheckFailed || c.Name == "signatures" {
			continue
		}
		ok := false
		for _, p := range e.Policy {
			if f := corpusPolicies[p].check; f != nil && f(c) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// judge classifies the report against every clause of the entry.
func judge(e corpusEntry, r *verify.Report) outcome {
	clauses, _ := parseExpect(e.Expect)
	res := outcome{cat: catAgree}
	var details []string
	add := func(o outcome) {
		res = worse(res, o)
		details = append(details, o.detail)
	}
	for _, c := range clauses {
		var sigs []*verify.SignatureReport
		switch {
		case c.scope == "doc" || c.scope == "all":
			for i := range r.Signatures {
				sigs = append(sigs, &r.Signatures[i])
			}
		case c.scope == "last":
			if n := len(r.Signatures); n > 0 {
				sigs = append(sigs, &r.Signatures[n-1])
			}
		case strings.HasPrefix(c.scope, "field:"):
			name := strings.TrimPrefix(c.scope, "field:")
			for i := range r.Signatures {
				if f := r.Signatures[i].Field; f == name || strings.HasSuffix(f, "."+name) {
					sigs = append(sigs, &r.Signatures[i])
				}
			}
		default:
			n, _ := strconv.Atoi(c.scope)
			if n <= len(r.Signatures) {
				sigs = append(sigs, &r.Signatures[n-1])
			}
		}
		if len(sigs) == 0 {
			bad := catFalseReject
			if c.verdict != "intact" && c.verdict != "unmodified" {
				bad = catMissed
				if r.Indication == verify.TotalFailed && !r.Valid {
					bad = catAgree // the file as a whole is rejected
				}
			}
			add(outcome{bad, fmt.Sprintf("%s: no such signature found (%d signatures, overall %s/%s)",
				c.scope, len(r.Signatures), r.Indication, r.SubIndication)})
			continue
		}
		if c.scope != "doc" {
			for _, s := range sigs {
				add(judgeSig(e, s, c.verdict))
			}
			if c.verdict != "intact" && c.verdict != "unmodified" && r.Valid {
				add(outcome{catFalseAccept, "the report says valid"})
			}
			continue
		}
		// doc scope.
		df := docFailure(r)
		switch c.verdict {
		case "intact", "unmodified":
			for _, s := range sigs {
				add(judgeSig(e, s, c.verdict))
			}
			if df != "" {
				if policyExplainsDoc(e, r) {
					add(outcome{catPolicy, "document: " + df + " (policy " + strings.Join(e.Policy, "+") + ")"})
				} else {
					add(outcome{catFalseReject, "document: " + df})
				}
			}
		default:
			failed, allPassed := "", true
			for _, s := range sigs {
				if failed == "" && (s.Indication == verify.TotalFailed || flagged(s)) {
					failed = sigLabel(s)
					if onlyCoverage(s) {
						failed += " (only the coverage check failed: the final revision is unsigned)"
					}
				}
				if s.Indication != verify.TotalPassed {
					allPassed = false
				}
			}
			var o outcome
			switch {
			case r.Valid:
				o = outcome{catFalseAccept, "the report says valid; they expect " + c.verdict}
			case failed != "":
				o = outcome{catAgree, failed}
			case df != "":
				o = outcome{catAgree, "only the document check failed: " + df}
			case allPassed:
				o = outcome{catFalseAccept, "every signature TOTAL_PASSED; they expect " + c.verdict}
			default:
				o = outcome{catMissed, "they expect " + c.verdict + "; overall " + r.Indication + "/" + r.SubIndication}
			}
			add(o)
		}
	}
	res.detail = strings.Join(details, "; ")
	return res
}

// ---- trust material ----

var hexString = regexp.MustCompile(`<([0-9A-Fa-f\s]{600,})>`)

// embeddedCerts returns every X.509 certificate found in the file: in hex strings (CMS
// /Contents), in streams (DSS /Certs, raw or Flate-compressed), and in the raw bytes.
func embeddedCerts(data []byte) []*x509.Certificate {
	blobs := [][]byte{data}
	for _, m := range hexString.FindAllSubmatch(data, -1) {
		h := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\f' {
				return -1
			}
			return r
		}, m[1])
		if len(h)%2 == 1 {
			h = append(h, '0')
		}
		b := make([]byte, len(h)/2)
		if _, err := hex.Decode(b, h); err == nil {
			blobs = append(blobs, b)
		}
	}
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("stream"))
		if i < 0 {
			break
		}
		start := off + i + len("stream")
		off = start
		if start > 3 && string(data[start-9:start]) == "endstream" {
			continue
		}
		if start < len(data) && data[start] == '\r' {
			start++
		}
		if start < len(data) && data[start] == '\n' {
			start++
		}
		end := bytes.Index(data[start:], []byte("endstream"))
		if end < 0 {
			break
		}
		zr, err := zlib.NewReader(bytes.NewReader(data[start : start+end]))
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(zr, 16<<20))
		if len(b) > 0 {
			blobs = append(blobs, b)
		}
	}
	seen := map[string]bool{}
	var out []*x509.Certificate
	for _, b := range blobs {
		for i := 0; i+6 < len(b); i++ {
			if b[i] != 0x30 || b[i+1] != 0x82 || b[i+4] != 0x30 || b[i+5] != 0x82 {
				continue
			}
			n := 4 + (int(b[i+2])<<8 | int(b[i+3]))
			if i+n > len(b) {
				continue
			}
			c, err := x509.ParseCertificate(b[i : i+n])
			if err != nil || seen[string(c.Raw)] {
				continue
			}
			seen[string(c.Raw)] = true
			out = append(out, c)
		}
	}
	return out
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// corpusRoots returns the anchors of an entry: for "embedded", every CA certificate and
// every self-signed certificate found in the file (their tests either trust the file's own
// chain or assert only integrity); for "roots:…", the PEM files under testdata/corpus/roots.
func corpusRoots(t testing.TB, e corpusEntry, data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for _, part := range strings.Split(e.Trust, "+") {
		switch {
		case part == "none":
		case part == "embedded":
			for _, c := range embeddedCerts(data) {
				if (c.BasicConstraintsValid && c.IsCA) || selfSigned(c) {
					out = append(out, c)
				}
			}
		case strings.HasPrefix(part, "roots:"):
			for _, name := range strings.Split(strings.TrimPrefix(part, "roots:"), ",") {
				b, err := os.ReadFile(filepath.Join(corpusDir, "roots", name))
				if err != nil {
					t.Fatalf("%s: %v", e.ID, err)
				}
				for {
					var blk *pem.Block
					blk, b = pem.Decode(b)
					if blk == nil {
						break
					}
					c, err := x509.ParseCertificate(blk.Bytes)
					if err != nil {
						t.Fatalf("%s: %s: %v", e.ID, name, err)
					}
					out = append(out, c)
				}
			}
		default:
			t.Fatalf("%s: unknown trust %q", e.ID, e.Trust)
		}
	}
	return out
}

func pool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// corpusNow is the validation time of an entry: the time their test freezes, or
// ("signing") one minute after the latest claimed signing or time-stamp time in the file,
// moved back to one minute before a signer certificate's notAfter if it falls after it,
// so that certificate expiry is irrelevant, as it is in their tests.
func corpusNow(t testing.TB, e corpusEntry, data []byte, roots *x509.CertPool) time.Time {
	if e.Now != "signing" {
		for _, layout := range []string{time.RFC3339, "2006-01-02"} {
			if tm, err := time.Parse(layout, e.Now); err == nil {
				return tm
			}
		}
		t.Fatalf("%s: bad now %q", e.ID, e.Now)
	}
	rep, err := verify.VerifyBytes(context.Background(), data, verify.Options{Roots: roots, SoftFailRevocation: true,
		Now: func() time.Time { return corpusFallbackNow }})
	if err != nil {
		return corpusFallbackNow
	}
	var latest time.Time
	for _, s := range rep.Signatures {
		if s.ClaimedSigningTime != nil && s.ClaimedSigningTime.After(latest) {
			latest = *s.ClaimedSigningTime
		}
		if s.Timestamp != nil && s.Timestamp.Time.After(latest) {
			latest = s.Timestamp.Time
		}
	}
	if latest.IsZero() {
		// No claimed time at all: just after the newest signer certificate was issued.
		for _, s := range rep.Signatures {
			if s.Signer != nil && s.Signer.NotBefore.After(latest) {
				latest = s.Signer.NotBefore
			}
		}
	}
	if latest.IsZero() {
		return corpusFallbackNow
	}
	latest = latest.Add(time.Minute)
	// Keep the time inside the signers' and anchors' validity: some test files claim a
	// signing time after their test certificates expired.
	for _, s := range rep.Signatures {
		if s.Signer != nil && latest.After(s.Signer.NotAfter) && s.Signer.NotAfter.After(s.Signer.NotBefore) {
			latest = s.Signer.NotAfter.Add(-time.Minute)
		}
	}
	return latest
}

// corpusFallbackNow is the validation time of a file that names no time at all; fixed, so
// that the outcome does not change as the years pass.
var corpusFallbackNow = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

type corpusResult struct {
	e   corpusEntry
	out outcome
	rep *verify.Report
}

func runCorpus(t *testing.T) []corpusResult {
	entries := readManifest(t)
	var res []corpusResult
	for _, e := range entries {
		data, err := os.ReadFile(e.file())
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != e.SHA256 {
			t.Fatalf("%s: sha256 %x, manifest says %s", e.ID, sum, e.SHA256)
		}
		roots := pool(corpusRoots(t, e, data))
		now := corpusNow(t, e, data, roots)
		rep, err := verify.VerifyBytes(context.Background(), data, verify.Options{
			Roots: roots, Now: func() time.Time { return now }, SoftFailRevocation: true})
		var o outcome
		if err != nil {
			o = outcome{catFalseReject, "VerifyBytes: " + err.Error()}
			if cl, _ := parseExpect(e.Expect); len(cl) > 0 && cl[0].verdict != "intact" && cl[0].verdict != "unmodified" {
				o = outcome{catAgree, "VerifyBytes: " + err.Error()}
			}
		} else {
			o = judge(e, rep)
		}
		res = append(res, corpusResult{e, o, rep})
		if dir := os.Getenv("CORPUS_DUMP"); dir != "" && rep != nil {
			b, _ := json.MarshalIndent(rep, "", "  ")
			p := filepath.Join(dir, e.ID+".json")
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, b, 0o644)
		}
	}
	return res
}

func TestCorpus(t *testing.T) {
	res := runCorpus(t)
	for _, msg := range listProblems(res) {
		t.Error(msg)
	}
	if testing.Verbose() {
		for _, r := range res {
			t.Logf("%-70s %-12s %s", r.e.ID, r.out.cat, r.out.detail)
		}
	}
	table := corpusTable(res)
	t.Log("\n" + table)
	if p := os.Getenv("CORPUS_TABLE"); p != "" {
		os.WriteFile(p, []byte(table), 0o644)
	}
}

// listProblems reports every entry that is neither agree nor policy.
func listProblems(res []corpusResult) []string {
	var out []string
	for _, r := range res {
		if r.out.cat != catAgree && r.out.cat != catPolicy {
			out = append(out, fmt.Sprintf("%s: %s: %s [expect %s; %s]", r.e.ID, r.out.cat, r.out.detail, r.e.Expect, r.e.Test))
		}
	}
	return out
}

// corpusTable counts outcomes per source.
func corpusTable(res []corpusResult) string {
	cats := []string{catAgree, catPolicy, catFalseAccept, catMissed, catFalseReject}
	count := map[string]map[string]int{}
	var sources []string
	for _, r := range res {
		if count[r.e.Source] == nil {
			count[r.e.Source] = map[string]int{}
			sources = append(sources, r.e.Source)
		}
		count[r.e.Source][r.out.cat]++
		count[r.e.Source]["files"]++
	}
	sort.Strings(sources)
	var b strings.Builder
	b.WriteString("| source | files | " + strings.Join(cats, " | ") + " |\n|---|---|" + strings.Repeat("---|", len(cats)) + "\n")
	total := map[string]int{}
	for _, s := range append(sources, "total") {
		m := count[s]
		if s == "total" {
			m = total
		}
		fmt.Fprintf(&b, "| %s | %d |", s, m["files"])
		for _, c := range cats {
			fmt.Fprintf(&b, " %d |", m[c])
		}
		b.WriteString("\n")
		if s != "total" {
			for k, v := range m {
				total[k] += v
			}
		}
	}
	return b.String()
}

// ---- pdfsig ----

// TestCorpusPdfsig runs poppler's pdfsig on every corpus file, with an NSS database
// trusting the same anchors, and compares its per-signature "Signature is Valid." with
// their expected verdict. pdfsig validates certificates at the present time and cannot
// tell an allowed later revision from a forbidden one, so only the signature-value
// verdict is compared. It runs pdfsig on every file (about 20 s; skipped with -short); CORPUS_PDFSIG_OUT=file
// writes the table.
func TestCorpusPdfsig(t *testing.T) {
	if testing.Short() {
		t.Skip("short: runs pdfsig on every corpus file")
	}
	for _, tool := range []string{"pdfsig", "certutil"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	dbs := map[string]string{}
	var b strings.Builder
	b.WriteString("| id | expected | pdfsig | agreement |\n|---|---|---|---|\n")
	counts := map[string]map[string]int{}
	for _, e := range readManifest(t) {
		data, err := os.ReadFile(e.file())
		if err != nil {
			t.Fatal(err)
		}
		roots := corpusRoots(t, e, data)
		key := sha256.New()
		for _, c := range roots {
			key.Write(c.Raw)
		}
		k := hex.EncodeToString(key.Sum(nil))
		db, ok := dbs[k]
		if !ok {
			db = nssFor(t, roots)
			dbs[k] = db
		}
		out, _ := exec.Command("pdfsig", "-nssdir", db, e.file()).CombinedOutput()
		// status per signature: "valid", "unjudged" (pdfsig 22.12 does not verify
		// ETSI.RFC3161 document time-stamps) or "" (anything else).
		var status []string
		lastTotal := false
		for _, l := range strings.Split(string(out), "\n") {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "Signature #"):
				status = append(status, "")
				lastTotal = false
			case len(status) > 0 && l == "- Signature Validation: Signature is Valid.":
				status[len(status)-1] = "valid"
			case len(status) > 0 && l == "- Signature Validation: Signature has not yet been verified.":
				status[len(status)-1] = "unjudged"
			case l == "- Total document signed":
				lastTotal = true
			}
		}
		// Judge only the signatures their test asserts something about (pdfsig lists them
		// in the file's order, which is the signing order for these files).
		var pick []string
		for _, c := range cl0(e) {
			n, err := strconv.Atoi(c.scope)
			switch {
			case c.scope == "last" && len(status) > 0:
				pick = append(pick, status[len(status)-1])
			case err == nil && n <= len(status):
				pick = append(pick, status[n-1])
			default:
				pick = nil
			}
			if pick == nil {
				break
			}
		}
		if pick != nil {
			status = pick
		}
		sigs, valid, unjudged := len(status), 0, 0
		for _, st := range status {
			switch st {
			case "valid":
				valid++
			case "unjudged":
				unjudged++
			}
		}
		summary := fmt.Sprintf("%d/%d valid", valid, sigs)
		if unjudged > 0 {
			summary += fmt.Sprintf(" (%d not verified by pdfsig)", unjudged)
		}
		sigs -= unjudged
		if sigs > 0 && lastTotal {
			summary += ", last total"
		}
		cl, _ := parseExpect(e.Expect)
		wantOK, integrityAsserted := true, false
		for _, c := range cl {
			if c.verdict != "intact" && c.verdict != "unmodified" {
				wantOK = false
			}
			if c.verdict == "intact" {
				integrityAsserted = true
			}
		}
		psOK := sigs > 0 && valid == sigs
		agree := "agree"
		switch {
		case sigs <= 0:
			agree = "pdfsig: no verdict"
		case wantOK && !psOK && !integrityAsserted:
			agree = "agree" // they assert only the revisions, pdfsig only the signature values
		case wantOK && !psOK:
			agree = "pdfsig rejects"
		case !wantOK && psOK && lastTotal:
			agree = "pdfsig accepts"
		case !wantOK && psOK:
			agree = "pdfsig: every signature valid, only \"not total document signed\""
		}
		if counts[e.Source] == nil {
			counts[e.Source] = map[string]int{}
		}
		counts[e.Source][agree]++
		expected := e.Expect
		if agree != "agree" {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", e.ID, expected, summary, agree)
		}
	}
	var sb strings.Builder
	kinds := []string{"agree", "pdfsig accepts", "pdfsig: every signature valid, only \"not total document signed\"",
		"pdfsig rejects", "pdfsig: no verdict"}
	sb.WriteString("| source | agree with their verdict | pdfsig accepts what they reject | pdfsig: every signature valid, only \"not total document signed\" | pdfsig rejects what they accept | pdfsig: no verdict |\n|---|---|---|---|---|---|\n")
	var srcs []string
	for s := range counts {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, s := range srcs {
		fmt.Fprintf(&sb, "| %s |", s)
		for _, k := range kinds {
			fmt.Fprintf(&sb, " %d |", counts[s][k])
		}
		sb.WriteString("\n")
	}
	t.Log("\n" + sb.String() + "\n" + b.String())
	if p := os.Getenv("CORPUS_PDFSIG_OUT"); p != "" {
		os.WriteFile(p, []byte(sb.String()+"\n"+b.String()), 0o644)
	}
}

func cl0(e corpusEntry) []expectClause {
	cl, _ := parseExpect(e.Expect)
	return cl
}

func nssFor(t testing.TB, roots []*x509.Certificate) string {
	dir := t.TempDir()
	run := func(args ...string) {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	run("-N", "-d", "sql:"+dir, "--empty-password")
	for i, c := range roots {
		p := filepath.Join(dir, fmt.Sprintf("root%d.pem", i))
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600)
		// NSS refuses some certificates (e.g. Ed448 keys): pdfsig then simply does not trust them.
		if out, err := exec.Command("certutil", "-A", "-d", "sql:"+dir, "-n", fmt.Sprintf("root%d", i),
			"-t", "C,C,C", "-i", p).CombinedOutput(); err != nil {
			t.Logf("certutil refuses %s: %s", c.Subject, bytes.TrimSpace(out))
		}
	}
	return "sql:" + dir
}

// TestCorpusJudge checks the classifier on hand-made reports: each category is reachable
// and the boundaries (trust asserted or not, policy named or not) are where REPORT.md says.
func TestCorpusJudge(t *testing.T) {
	sig := func(ind, sub string, mods ...bool) verify.SignatureReport {
		s := verify.SignatureReport{Index: 1, Field: "Sig1", Indication: ind, SubIndication: sub, Integrity: "intact"}
		if len(mods) > 0 && mods[0] {
			s.ModifiedAfterSigning = true
		}
		if ind == verify.TotalFailed && sub != verify.SubModifiedAfterSigning {
			s.Integrity = "broken"
		}
		return s
	}
	rep := func(valid bool, sigs ...verify.SignatureReport) *verify.Report {
		r := &verify.Report{Valid: valid, Indication: verify.TotalPassed, Signatures: sigs}
		for i := range r.Signatures {
			r.Signatures[i].Index = i + 1
			if r.Signatures[i].Indication != verify.TotalPassed {
				r.Indication, r.SubIndication = r.Signatures[i].Indication, r.Signatures[i].SubIndication
			}
		}
		return r
	}
	passed := sig(verify.TotalPassed, "")
	untrusted := sig(verify.Indeterminate, verify.SubNoCertificateChain)
	modified := sig(verify.TotalFailed, verify.SubModifiedAfterSigning, true)
	hash := sig(verify.TotalFailed, verify.SubHashFailure)
	crypto := sig(verify.Indeterminate, verify.SubCryptoConstraints)
	untrustedFlagged := sig(verify.Indeterminate, verify.SubNoCertificateChain, true)
	for _, c := range []struct {
		name   string
		e      corpusEntry
		r      *verify.Report
		expect string
	}{
		{"intact passed", corpusEntry{Expect: "1=intact"}, rep(true, passed), catAgree},
		{"intact untrusted, trust not asserted", corpusEntry{Expect: "all=intact"}, rep(false, untrusted), catAgree},
		{"intact untrusted, trust asserted", corpusEntry{Expect: "all=intact", TrustAsserted: true}, rep(false, untrusted), catFalseReject},
		{"intact failed", corpusEntry{Expect: "1=intact"}, rep(false, modified), catFalseReject},
		{"intact weak, policy named", corpusEntry{Expect: "1=intact", Policy: []string{"unsupported-algorithm"}}, rep(false, crypto), catPolicy},
		{"intact weak, no policy", corpusEntry{Expect: "1=intact"}, rep(false, crypto), catFalseReject},
		{"intact but signature missing", corpusEntry{Expect: "2=intact"}, rep(true, passed), catFalseReject},
		{"modified passed", corpusEntry{Expect: "1=modified"}, rep(false, passed), catFalseAccept},
		{"modified, file valid", corpusEntry{Expect: "1=modified"}, rep(true, modified), catFalseAccept},
		{"modified failed", corpusEntry{Expect: "1=modified"}, rep(false, modified), catAgree},
		{"modified untrusted, unnoticed", corpusEntry{Expect: "1=modified"}, rep(false, untrusted), catMissed},
		{"modified untrusted, flagged", corpusEntry{Expect: "1=modified"}, rep(false, untrustedFlagged), catAgree},
		{"invalid, no signature, file failed", corpusEntry{Expect: "1=invalid"},
			&verify.Report{Indication: verify.TotalFailed, SubIndication: verify.SubFormatFailure}, catAgree},
		{"unmodified, integrity broken", corpusEntry{Expect: "doc=unmodified"}, rep(false, hash), catAgree},
		{"unmodified, modification", corpusEntry{Expect: "doc=unmodified"}, rep(false, modified), catFalseReject},
		{"doc modified, one failed", corpusEntry{Expect: "doc=modified"}, rep(false, passed, modified), catAgree},
		{"doc modified, all passed", corpusEntry{Expect: "doc=modified"}, rep(false, passed, passed), catFalseAccept},
		{"doc modified, untrusted", corpusEntry{Expect: "doc=modified"}, rep(false, untrusted), catMissed},
		{"indeterminate passed", corpusEntry{Expect: "last=indeterminate"}, rep(true, passed), catFalseAccept},
		{"indeterminate failed", corpusEntry{Expect: "last=indeterminate"}, rep(false, hash), catAgree},
		{"worst clause wins", corpusEntry{Expect: "1=intact;2=modified"}, rep(false, modified, passed), catFalseAccept},
		{"field scope", corpusEntry{Expect: "field:Sig1=intact"}, rep(true, passed), catAgree},
	} {
		if got := judge(c.e, c.r); got.cat != c.expect {
			t.Errorf("%s: %s (%s), want %s", c.name, got.cat, got.detail, c.expect)
		}
	}
	for _, bad := range []string{"1", "x=intact", "1=fine", "0=intact", "doc=intact;"} {
		if _, err := parseExpect(bad); err == nil {
			t.Errorf("parseExpect(%q): no error", bad)
		}
	}
}

func TestCorpusProblems(t *testing.T) {
	res := []corpusResult{
		{e: corpusEntry{ID: "a"}, out: outcome{cat: catAgree}},
		{e: corpusEntry{ID: "b"}, out: outcome{cat: catFalseReject}},
		{e: corpusEntry{ID: "c"}, out: outcome{cat: catFalseAccept}},
		{e: corpusEntry{ID: "d"}, out: outcome{cat: catPolicy}},
		{e: corpusEntry{ID: "e"}, out: outcome{cat: catMissed}},
	}
	got := listProblems(res)
	want := []string{"b: false_reject", "c: false_accept", "e: missed"}
	if len(got) != len(want) {
		t.Fatalf("problems %q, want %d", got, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("problem %d = %q, want it to start with %q", i, got[i], w)
		}
	}
}
