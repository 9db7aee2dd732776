package certify

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Steps of a certification after its number was reserved, as void reasons name them.
const (
	stepSign      = "Không tạo được bản sao có chữ ký số"
	stepSeal      = "Không ghi được mã băm của bản sao vào sổ"
	stepStoreCopy = "Không lưu được bản sao vào kho lưu trữ"
	stepStoreScan = "Không lưu được ảnh chụp bản chính vào kho lưu trữ"
	stepIssue     = "Không ghi nhận được việc cấp bản sao vào sổ"
)

// RepairReason is the void reason of an entry left Pending by a request that never finished
// (its process was killed or lost its database): Repair voids it; its stored copy, if any,
// stays in the store as evidence, referenced by the void entry.
const RepairReason = "Bị gián đoạn trước khi bản sao được giao cho người yêu cầu (hệ thống tự hủy khi kiểm tra)"

// voidReason is what the permanent register says about an entry voided at step because of
// err: fixed words an auditor can read — never a Go error, an endpoint or a key (those are
// logged with the entry's ID).
func voidReason(step string, err error) string {
	var cause string
	switch {
	case errors.Is(err, context.Canceled):
		cause = "yêu cầu bị hủy giữa chừng"
	case errors.Is(err, context.DeadlineExceeded):
		cause = "hết thời gian chờ"
	default:
		switch chungthuc.ErrorCode(err) {
		case chungthuc.EUNAVAILABLE:
			switch step {
			case stepStoreCopy, stepStoreScan:
				cause = "kho không phản hồi"
			case stepSign:
				cause = "thiết bị ký số hoặc dịch vụ cấp dấu thời gian không phản hồi"
			default:
				cause = "cơ sở dữ liệu không phản hồi"
			}
		case chungthuc.ECONFLICT:
			if step == stepStoreCopy || step == stepStoreScan {
				cause = "trong kho đã có một tệp khác cùng tên"
			} else {
				cause = "sổ không cho phép thay đổi này"
			}
		case chungthuc.EINVALID:
			if step == stepStoreCopy || step == stepStoreScan {
				cause = "dữ liệu ghi vào kho không khớp mã băm"
			} else {
				cause = "dữ liệu không hợp lệ"
			}
		case chungthuc.ETOOLARGE:
			cause = "tệp vượt quá giới hạn cho phép"
		default:
			cause = "lỗi hệ thống"
		}
	}
	return step + " (" + cause + ")"
}

// void marks an entry Void with a reason, on a fresh context so a cancelled request still
// leaves an honest register. When the register cannot be reached, the void is retried in
// the background with backoff until it succeeds (or Close), so the entry does not stay
// Pending; Repair voids it too should the process die first.
func (s *Service) void(c *chungthuc.Certification, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Register.Void(ctx, c.ID, reason)
	if s.voided(c.ID, reason, err) {
		return
	}
	s.log().Error("void failed; retrying in the background", "certification", c.ID, "number", c.Number, "reason", reason, "err", err)
	s.bg.retry(s, c.ID, c.Number, reason)
}

// voided reports whether the void attempt settled the entry (done, or nothing left to do).
func (s *Service) voided(id int64, reason string, err error) bool {
	switch chungthuc.ErrorCode(err) {
	case "":
		s.log().Warn("entry voided", "certification", id, "reason", reason)
		return true
	case chungthuc.ECONFLICT, chungthuc.ENOTFOUND:
		// No longer Pending: voided by Repair, or — the answer to Issue was lost after it
		// committed — issued. Say so loudly: the request was answered with an error.
		c, gerr := s.Register.CertificationByID(context.Background(), id)
		if gerr == nil && c.Status == chungthuc.StatusIssued {
			s.log().Error("entry is issued although its request failed", "certification", id, "number", c.Number)
		}
		return true
	}
	return false
}

// background retries voids that failed, each in its own goroutine, until they settle or the
// Service is closed.
type background struct {
	mu      sync.Mutex
	stop    chan struct{}
	closed  bool
	wg      sync.WaitGroup
	pending map[int64]bool
}

func (b *background) retry(s *Service, id, number int64, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.log().Error("service closing: void left for repair", "certification", id)
		return
	}
	if b.stop == nil {
		b.stop, b.pending = make(chan struct{}), map[int64]bool{}
	}
	if b.pending[id] {
		return
	}
	b.pending[id] = true
	wait := s.RetryVoid
	if wait <= 0 {
		wait = time.Second
	}
	stop := b.stop
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() { b.mu.Lock(); delete(b.pending, id); b.mu.Unlock() }()
		for attempt := 1; ; attempt++ {
			select {
			case <-stop:
				s.log().Error("service closing: void left for repair", "certification", id, "number", number)
				return
			case <-time.After(wait):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := s.Register.Void(ctx, id, reason)
			cancel()
			if s.voided(id, reason, err) {
				s.log().Warn("void done after retrying", "certification", id, "attempts", attempt)
				return
			}
			s.log().Error("void still failing", "certification", id, "attempt", attempt, "err", err)
			wait = min(wait*2, time.Minute)
		}
	}()
}

// PendingVoids is the number of voids being retried in the background.
func (s *Service) PendingVoids() int {
	s.bg.mu.Lock()
	defer s.bg.mu.Unlock()
	return len(s.bg.pending)
}

// Close stops the background retries (entries they did not void are left for Repair) and
// waits for them to end. The Service must not certify afterwards.
func (s *Service) Close() {
	s.bg.mu.Lock()
	if !s.bg.closed {
		s.bg.closed = true
		if s.bg.stop != nil {
			close(s.bg.stop)
		}
	}
	s.bg.mu.Unlock()
	s.bg.wg.Wait()
}
