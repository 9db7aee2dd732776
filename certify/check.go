package certify

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
)

// DefaultGrace is how long an entry may stay Pending before Repair voids it: longer than
// any request (a certification with its uploads takes seconds; the HTTP server gives one at
// most a few minutes).
const DefaultGrace = 15 * time.Minute

// StorePrefixes are where the service writes objects; Check lists them for orphans.
var StorePrefixes = []string{"copies/", "scans/", "renewals/"}

// VoidedEntry is an entry Repair voided.
type VoidedEntry struct {
	ID       int64  `json:"id"`
	Number   int64  `json:"number"`
	Year     int    `json:"year"`
	Evidence string `json:"evidence,omitempty"` // the stored copy's key, kept in the store, when one was sealed
}

// Problem is something wrong with a stored object that Check found.
type Problem struct {
	Kind            string `json:"kind"` // a chungthuc.Finding kind
	Key             string `json:"key"`
	CertificationID int64  `json:"certification_id,omitempty"`
	Number          int64  `json:"number,omitempty"`
	Year            int    `json:"year,omitempty"`
	Detail          string `json:"detail"`
}

// CheckOptions choose what Check does besides voiding stale Pending entries.
type CheckOptions struct {
	// Grace: Pending entries and unreferenced objects younger than this are left alone (a
	// request may be running). 0 means no grace.
	Grace time.Duration
	// Orphans lists the store's copies/, scans/ and renewals/ for objects no entry refers to.
	Orphans bool
	// Deep reads back every stored copy (and the entry's scans) and compares them with the
	// register.
	Deep bool
	// Sample reads back this many stored copies, continuing where the previous sample of
	// this Service stopped and starting over at the end (a rolling check). Ignored with Deep.
	Sample int
}

// CheckReport is what Check did and found.
type CheckReport struct {
	Voided         []VoidedEntry `json:"voided"`
	Orphans        []Problem     `json:"orphans"`
	Problems       []Problem     `json:"problems"` // stored copies: missing, damaged, overwritten, deleted
	Cleared        []string      `json:"cleared"`  // findings closed: the object checked out fine again
	ListedObjects  int           `json:"listed_objects"`
	CheckedCopies  int           `json:"checked_copies"`
	CheckedObjects int           `json:"checked_objects"` // copies and scans read back
}

// Clean reports whether nothing needs an administrator: no orphan and no problem.
func (r *CheckReport) Clean() bool { return len(r.Orphans) == 0 && len(r.Problems) == 0 }

// Repair voids the entries left Pending for longer than grace, with RepairReason: their
// request never finished, so nobody holds their copy or access code. It never issues and
// never deletes: a stored copy stays, referenced by the void entry. A request still running
// when its entry is voided (a grace shorter than the request) fails when it tries to issue.
func (s *Service) Repair(ctx context.Context, grace time.Duration) ([]VoidedEntry, error) {
	pending, err := s.Register.Pending(ctx, s.Now().Add(-grace))
	if err != nil {
		return nil, err
	}
	out := []VoidedEntry{}
	for _, c := range pending {
		err := s.Register.Void(ctx, c.ID, RepairReason)
		switch chungthuc.ErrorCode(err) {
		case "":
		case chungthuc.ECONFLICT: // settled meanwhile (issued or voided by its own request)
			continue
		default:
			return out, err
		}
		v := VoidedEntry{ID: c.ID, Number: c.Number, Year: c.Year, Evidence: c.ObjectKey}
		s.log().Warn("repair voided an interrupted entry", "certification", c.ID, "number", c.Number, "year", c.Year, "evidence", c.ObjectKey)
		out = append(out, v)
	}
	return out, nil
}

// Check repairs (Repair with opt.Grace) and checks the store against the register: orphan
// objects (opt.Orphans) and stored copies read back (opt.Deep, or a rolling opt.Sample).
// Everything found is recorded as a finding (audited when new), logged at ERROR and
// counted; findings of objects that check out fine again are cleared. It never deletes or
// overwrites an object. Errors: the register's or the store's, when they cannot be read.
func (s *Service) Check(ctx context.Context, opt CheckOptions) (*CheckReport, error) {
	rep := &CheckReport{Voided: []VoidedEntry{}, Orphans: []Problem{}, Problems: []Problem{}, Cleared: []string{}}
	var err error
	if rep.Voided, err = s.Repair(ctx, opt.Grace); err != nil {
		return rep, err
	}
	open := map[string]*chungthuc.Finding{}
	fs, err := s.Register.Findings(ctx, "")
	if err != nil {
		return rep, err
	}
	for _, f := range fs {
		open[f.Key] = f
	}
	if opt.Orphans {
		if err := s.checkOrphans(ctx, opt.Grace, open, rep); err != nil {
			return rep, err
		}
	}
	if opt.Deep || opt.Sample > 0 {
		if err := s.checkCopies(ctx, opt, open, rep); err != nil {
			return rep, err
		}
	}
	if _, err := s.RefreshFindings(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

func (s *Service) checkOrphans(ctx context.Context, grace time.Duration, open map[string]*chungthuc.Finding, rep *CheckReport) error {
	cutoff := s.Now().Add(-grace)
	for _, prefix := range StorePrefixes {
		var keys []chungthuc.ObjectInfo
		err := s.Objects.List(ctx, prefix, func(o chungthuc.ObjectInfo) error {
			keys = append(keys, o)
			return nil
		})
		if err != nil {
			return err
		}
		for _, o := range keys {
			rep.ListedObjects++
			ok, err := s.Register.ObjectReferenced(ctx, o.Key)
			if err != nil {
				return err
			}
			f := open[o.Key]
			if ok {
				if f != nil && f.Kind == chungthuc.FindingOrphan {
					if err := s.clear(ctx, o.Key, rep); err != nil {
						return err
					}
				}
				continue
			}
			// A renewal is stored before it is registered: leave young objects alone.
			if !o.ModTime.IsZero() && o.ModTime.After(cutoff) {
				continue
			}
			p := Problem{Kind: chungthuc.FindingOrphan, Key: o.Key,
				Detail: fmt.Sprintf("Tệp trong kho (%d byte, ghi lúc %s) không có mục nào trong sổ: giữ lại làm chứng cứ; xem `chungthuc reconcile`", o.Size, o.ModTime.UTC().Format(time.RFC3339))}
			rep.Orphans = append(rep.Orphans, p)
			if err := s.report(ctx, p, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// report records a problem as a finding, logs it (ERROR when new) and counts it.
func (s *Service) report(ctx context.Context, p Problem, open *chungthuc.Finding) error {
	s.health.count(p.Kind)
	if open == nil || open.Kind != p.Kind {
		s.log().Error("stored object problem found", "kind", p.Kind, "key", p.Key, "certification", p.CertificationID,
			"number", p.Number, "year", p.Year, "detail", p.Detail)
	}
	return s.Register.ReportFinding(ctx, &chungthuc.Finding{Key: p.Key, Kind: p.Kind, CertificationID: p.CertificationID, Detail: p.Detail})
}

func (s *Service) clear(ctx context.Context, key string, rep *CheckReport) error {
	if err := s.Register.ClearFinding(ctx, key); err != nil {
		return err
	}
	s.log().Warn("finding cleared: the object checks out", "key", key)
	rep.Cleared = append(rep.Cleared, key)
	return nil
}

// checkCopies reads back stored copies: all of them (Deep) or the next Sample of them.
func (s *Service) checkCopies(ctx context.Context, opt CheckOptions, open map[string]*chungthuc.Finding, rep *CheckReport) error {
	after, left := int64(0), opt.Sample
	if !opt.Deep {
		s.health.mu.Lock()
		after = s.health.cursor
		s.health.mu.Unlock()
	}
	wrapped := false
	for opt.Deep || left > 0 {
		n := 200
		if !opt.Deep {
			n = min(left, 200)
		}
		page, err := s.Register.StoredCopies(ctx, after, n)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			if opt.Deep || wrapped || after == 0 {
				break
			}
			after, wrapped = 0, true // the sample starts over
			continue
		}
		for _, c := range page {
			after = c.ID
			left--
			if err := s.checkEntry(ctx, c, open, rep); err != nil {
				return err
			}
		}
	}
	if !opt.Deep {
		s.health.mu.Lock()
		s.health.cursor = after
		s.health.mu.Unlock()
	}
	return nil
}

// checkEntry checks one entry's stored copy and scans, names what is wrong and records it.
func (s *Service) checkEntry(ctx context.Context, c *chungthuc.Certification, open map[string]*chungthuc.Finding, rep *CheckReport) error {
	rep.CheckedCopies++
	problem := func(kind, key, detail string) Problem {
		return Problem{Kind: kind, Key: key, CertificationID: c.ID, Number: c.Number, Year: c.Year, Detail: detail}
	}
	var found []Problem
	res, fault, err := s.readChecked(ctx, c.ObjectKey, c.ObjectVersion, c.SHA256)
	if err != nil {
		return err
	}
	rep.CheckedObjects++
	switch {
	case fault != "":
		found = append(found, problem(fault, c.ObjectKey, s.explain(ctx, c, fault, res)))
	default:
		_ = res.copy.Close() // read only; the spool file is removed either way
		// The recorded version is intact; has the key been written or deleted since?
		cur, err := s.Objects.Stat(ctx, c.ObjectKey)
		switch {
		case chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND:
			found = append(found, problem(chungthuc.FindingDeleted, c.ObjectKey,
				"Bản sao đã bị xóa trong kho (có dấu xóa); phiên bản đã ghi vẫn còn nguyên và vẫn được dùng"))
		case err != nil:
			return err
		case cur.Version != res.info.Version || (cur.ETag != res.info.ETag && cur.ETag != "" && res.info.ETag != ""):
			found = append(found, problem(chungthuc.FindingOverwritten, c.ObjectKey,
				fmt.Sprintf("Đã có người ghi đè lên bản sao trong kho (phiên bản mới %s, %d byte); phiên bản đã ghi vẫn còn nguyên và vẫn được dùng", cur.Version, cur.Size)))
		}
	}
	for _, k := range c.ScanKeys {
		want := strings.TrimSuffix(path.Base(k), path.Ext(k))
		if len(want) != 64 {
			continue // not named by its hash: nothing to compare with
		}
		res, fault, err := s.readChecked(ctx, k, "", want)
		if err != nil {
			return err
		}
		rep.CheckedObjects++
		if fault != "" {
			detail := "Không tìm thấy ảnh chụp bản chính trong kho"
			if fault == chungthuc.FindingDamaged {
				detail = fmt.Sprintf("Ảnh chụp bản chính trong kho (%d byte, SHA-256 %s) không khớp với tên của nó", res.size, res.sha256)
			}
			found = append(found, problem(fault, k, detail))
		} else {
			_ = res.copy.Close() // read only; the spool file is removed either way
		}
	}
	bad := map[string]bool{}
	for _, p := range found {
		bad[p.Key] = true
		rep.Problems = append(rep.Problems, p)
		if err := s.report(ctx, p, open[p.Key]); err != nil {
			return err
		}
	}
	for _, k := range append([]string{c.ObjectKey}, c.ScanKeys...) {
		if f := open[k]; f != nil && !bad[k] && f.Kind != chungthuc.FindingOrphan {
			if err := s.clear(ctx, k, rep); err != nil {
				return err
			}
			delete(open, k)
		}
	}
	return nil
}
