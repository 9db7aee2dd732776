package certify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/chungthuc/chungthuc"
)

// inMemory is the largest copy ReadCopy holds in memory; larger ones are spooled to a
// temporary file while they are checked.
const inMemory = 8 << 20

// defaultMaxCopy bounds a stored copy read back when Service.MaxCopySize is 0.
const defaultMaxCopy = 256 << 20

// CopyFault says that an entry's stored copy cannot be handed out: it is missing, or the
// bytes stored do not hash to the register's SHA-256. Its code is EINTERNAL, with a message
// fit for a citizen (no key, bucket or endpoint); Detail is for the logs and the finding.
type CopyFault struct {
	Kind          string // chungthuc.FindingMissing or chungthuc.FindingDamaged
	Certification *chungthuc.Certification
	Detail        string
}

func (f *CopyFault) Error() string {
	return fmt.Sprintf("certify: stored copy of certification %d is %s: %s", f.Certification.ID, f.Kind, f.Detail)
}

// Unwrap gives the error shown to users.
func (f *CopyFault) Unwrap() error {
	return &chungthuc.Error{Code: chungthuc.EINTERNAL, Message: "Bản lưu trữ của bản sao này bị thiếu hoặc hư hỏng nên không thể tải về. Cơ quan chứng thực đã được thông báo. (The stored copy is missing or damaged and cannot be downloaded; the certifying office has been notified.)"}
}

// Copy is a stored copy read back and found to hash to the register's SHA-256. Read it,
// then Close it.
type Copy struct {
	io.Reader
	Size int64
	file *os.File
}

// Close releases the spool file, if any.
func (c *Copy) Close() error {
	if c.file != nil {
		_ = c.file.Close() // a spool file being thrown away: only its removal matters
		return os.Remove(c.file.Name())
	}
	return nil
}

// ReadCopy reads c's signed copy — the version recorded when it was issued — and checks
// its bytes against c.SHA256 before anything is handed out. A missing or damaged copy is a
// *CopyFault: it is recorded as a finding (with an audit entry) and counted; the caller logs
// it with its request. Other errors: ENOTFOUND when c has no stored copy, EUNAVAILABLE when
// the store cannot be read now.
func (s *Service) ReadCopy(ctx context.Context, c *chungthuc.Certification) (*Copy, error) {
	if c.ObjectKey == "" || c.SHA256 == "" {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "this entry has no stored copy")
	}
	cp, fault, err := s.readChecked(ctx, c.ObjectKey, c.ObjectVersion, c.SHA256)
	if err != nil {
		return nil, err
	}
	if fault != "" {
		f := &CopyFault{Kind: fault, Certification: c, Detail: s.explain(ctx, c, fault, cp)}
		s.fault(ctx, f)
		return nil, f
	}
	return cp.copy, nil
}

// readResult is what readChecked saw.
type readResult struct {
	copy    *Copy
	info    *chungthuc.ObjectInfo
	size    int64
	sha256  string // of the bytes read; "" when nothing was read
	readErr string // a failed end of stream (the store's own check)
}

// readChecked reads version of key and compares it with want. It returns the checked copy,
// or a fault kind (missing, damaged) with what was read, or an error when the store cannot
// be read now.
func (s *Service) readChecked(ctx context.Context, key, version, want string) (*readResult, string, error) {
	rc, info, err := s.Objects.Get(ctx, key, version)
	switch chungthuc.ErrorCode(err) {
	case "":
	case chungthuc.ENOTFOUND:
		return &readResult{}, chungthuc.FindingMissing, nil
	default:
		return nil, "", err
	}
	defer rc.Close()
	limit := s.MaxCopySize
	if limit <= 0 {
		limit = defaultMaxCopy
	}
	res := &readResult{info: info}
	if info.Size > limit {
		res.size = info.Size
		return res, chungthuc.FindingDamaged, nil
	}
	h := sha256.New()
	var sink io.Writer = h
	var buf *bytes.Buffer
	var file *os.File
	if info.Size <= inMemory {
		buf = bytes.NewBuffer(make([]byte, 0, max(info.Size, 0)))
		sink = io.MultiWriter(h, buf)
	} else {
		if file, err = os.CreateTemp("", "chungthuc-copy-*"); err != nil {
			return nil, "", err
		}
		sink = io.MultiWriter(h, file)
	}
	cleanup := func() {
		if file != nil {
			_ = file.Close() // thrown away
			os.Remove(file.Name())
		}
	}
	n, err := io.Copy(sink, io.LimitReader(rc, limit+1))
	res.size, res.sha256 = n, hex.EncodeToString(h.Sum(nil))
	if err != nil {
		code := chungthuc.ErrorCode(err)
		if code == chungthuc.EUNAVAILABLE || ctx.Err() != nil {
			cleanup()
			return nil, "", err
		}
		// The store's own check failed at the end (size or metadata hash): damaged.
		res.readErr = chungthuc.ErrorMessage(err)
	}
	if res.readErr != "" || n > limit || res.sha256 != want {
		cleanup()
		return res, chungthuc.FindingDamaged, nil
	}
	res.copy = &Copy{Size: n}
	if buf != nil {
		res.copy.Reader = buf
	} else {
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			cleanup()
			return nil, "", err
		}
		res.copy.Reader, res.copy.file = file, file
	}
	return res, "", nil
}

// explain words a fault for the logs, the finding and fsck: what was expected and found,
// and, when the bytes are another entry's copy, which one.
func (s *Service) explain(ctx context.Context, c *chungthuc.Certification, kind string, r *readResult) string {
	if kind == chungthuc.FindingMissing {
		if c.ObjectVersion != "" {
			return fmt.Sprintf("Không tìm thấy bản sao (phiên bản %s) trong kho", c.ObjectVersion)
		}
		return "Không tìm thấy bản sao trong kho"
	}
	msg := fmt.Sprintf("Nội dung trong kho (%d byte, SHA-256 %s) không khớp với sổ (SHA-256 %s)", r.size, r.sha256, c.SHA256)
	if r.readErr != "" {
		msg += "; kho báo nội dung hỏng"
	}
	if r.sha256 != "" {
		if other, err := s.Register.CertificationBySHA256(ctx, r.sha256); err == nil && other.ID != c.ID {
			msg += fmt.Sprintf("; đây là bản sao số %d/%d (mục %d) — đã bị tráo", other.Number, other.Year, other.ID)
		}
	}
	return msg
}

// fault records a finding about an entry's copy and counts it. A failure to record is
// logged: the caller still answers with the fault.
func (s *Service) fault(ctx context.Context, f *CopyFault) {
	s.health.count(f.Kind)
	err := s.Register.ReportFinding(context.WithoutCancel(ctx), &chungthuc.Finding{Key: f.Certification.ObjectKey,
		Kind: f.Kind, CertificationID: f.Certification.ID, Detail: f.Detail})
	if err != nil {
		s.log().Error("cannot record a finding", "certification", f.Certification.ID, "kind", f.Kind, "err", err)
	}
}

// health counts integrity failures (by finding kind) and caches the open findings, for
// /metrics and the administrator's pages.
type health struct {
	mu       sync.Mutex
	failures map[string]int64
	open     map[string]int // open findings by kind, as last read from the register
	cursor   int64          // where the rolling sample of Check continues
}

func (h *health) count(kind string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failures == nil {
		h.failures = map[string]int64{}
	}
	h.failures[kind]++
}

// IntegrityFailures returns how many integrity failures this process found, by kind
// (missing, damaged, overwritten, deleted, orphan): downloads, fsck passes and samples.
func (s *Service) IntegrityFailures() map[string]int64 {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	out := map[string]int64{}
	for k, v := range s.health.failures {
		out[k] = v
	}
	return out
}

// OpenFindings returns the number of open findings by kind as last read from the register
// (by RefreshFindings or Check).
func (s *Service) OpenFindings() map[string]int {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.health.open {
		out[k] = v
	}
	return out
}

// RefreshFindings reads the open findings from the register, updates the counts
// OpenFindings returns, and returns the findings, newest first.
func (s *Service) RefreshFindings(ctx context.Context) ([]*chungthuc.Finding, error) {
	fs, err := s.Register.Findings(ctx, "")
	if err != nil {
		return nil, err
	}
	open := map[string]int{}
	for _, f := range fs {
		open[f.Kind]++
	}
	s.health.mu.Lock()
	s.health.open = open
	s.health.mu.Unlock()
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].LastSeen.After(fs[j].LastSeen) })
	return fs, nil
}

// StoredCopyState says what is known of an entry's stored copy from the open findings:
// "ok" when none is open, else the finding's kind (missing, damaged: the copy cannot be
// handed out; overwritten, deleted: someone changed the store, the recorded version is
// still intact).
func (s *Service) StoredCopyState(ctx context.Context, c *chungthuc.Certification) (string, error) {
	if c.ObjectKey == "" {
		return "ok", nil
	}
	fs, err := s.Register.Findings(ctx, c.ObjectKey)
	if err != nil {
		return "", err
	}
	for _, f := range fs {
		if f.CertificationID == c.ID || f.CertificationID == 0 {
			return f.Kind, nil
		}
	}
	return "ok", nil
}
