package certify

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// ErrKeyReused is returned (EINVALID) when an idempotency key comes back with a request
// other than the one it was first used for. The HTTP API answers it with 422.
var ErrKeyReused = &chungthuc.Error{Code: chungthuc.EINVALID,
	Message: "Khóa chống gửi lặp (Idempotency-Key) này đã được dùng cho một yêu cầu khác. (This Idempotency-Key was used with a different request.)"}

// Outcome is the error a retried request gets when the first request with its idempotency
// key did not issue a copy: the entry it created, void with its reason, or still Pending
// while that request runs. Its code is ECONFLICT.
type Outcome struct {
	Certification *chungthuc.Certification
	err           *chungthuc.Error
}

func (o *Outcome) Error() string { return o.err.Error() }

// Unwrap gives the *chungthuc.Error (ECONFLICT) with the message for the client.
func (o *Outcome) Unwrap() error { return o.err }

// InProgress reports whether the first request is still running.
func (o *Outcome) InProgress() bool { return o.Certification.Status == chungthuc.StatusPending }

func voidOutcome(c *chungthuc.Certification) *Outcome {
	return &Outcome{Certification: c, err: chungthuc.Errorf(chungthuc.ECONFLICT,
		"Yêu cầu này không thành công; số %d đã bị hủy: %s. (The request failed; its number was voided.)", c.Number, c.VoidReason)}
}

// prior returns the outcome of the request that first used key in the unit, if there was one.
func (s *Service) prior(ctx context.Context, unitID int64, key, fingerprint string) (*Output, error, bool) {
	c, err := s.Register.CertificationByIdempotencyKey(ctx, unitID, key)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return nil, nil, false
	} else if err != nil {
		return nil, err, true
	}
	if c.RequestHash != fingerprint {
		return nil, ErrKeyReused, true
	}
	switch c.Status {
	case chungthuc.StatusIssued, chungthuc.StatusRevoked:
		return &Output{Certification: c, VerifyURL: s.VerifyURL(c.Token), Replayed: true}, nil, true
	case chungthuc.StatusVoid:
		return nil, voidOutcome(c), true
	}
	// Signed outside the service and still waiting: the first outcome is what it waits for.
	if aw, err := s.ToSignOf(ctx, unitID, c.ID); err == nil {
		return &Output{Certification: aw.Certification, VerifyURL: s.VerifyURL(c.Token), Awaiting: aw, Replayed: true}, nil, true
	}
	return nil, &Outcome{Certification: c, err: chungthuc.Errorf(chungthuc.ECONFLICT,
		"Yêu cầu với khóa này đang được xử lý (số %d); vui lòng thử lại sau ít phút. (A request with this key is still in progress.)", c.Number)}, true
}

// checkIdempotencyKey accepts 1 to 200 printable ASCII characters (EINVALID otherwise).
func checkIdempotencyKey(key string) error {
	if len(key) > 200 {
		return chungthuc.Errorf(chungthuc.EINVALID, "an Idempotency-Key is at most 200 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return chungthuc.Errorf(chungthuc.EINVALID, "an Idempotency-Key is printable ASCII without spaces")
		}
	}
	return nil
}

// requestFingerprint is the hex SHA-256 of what a request asks for: the officer, the
// title printed, the document's title, issuer and requester (NFC, trimmed), whether scans
// are kept, and each scan's name and SHA-256 in order — not the bytes on the wire, which a
// multipart encoder varies between retries. Fields are length-prefixed.
func requestFingerprint(officerID int64, title string, in Input) string {
	h := sha256.New()
	h.Write([]byte("chungthuc.request.v1"))
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	clean := func(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }
	field(strconv.FormatInt(officerID, 10))
	field(clean(title))
	field(clean(in.DocTitle))
	field(clean(in.Issuer))
	field(clean(in.Requester))
	field(strconv.FormatBool(in.KeepScans))
	if in.Copies > 1 || in.ConfirmLowResolution {
		// Only when set, so that fingerprints of requests from before these fields stay.
		field("copies=" + strconv.Itoa(in.Copies) + ";confirm=" + strconv.FormatBool(in.ConfirmLowResolution))
	}
	if in.Signing == SigningExternal {
		field("signing=external") // only when set, like copies
	}
	field(strconv.Itoa(len(in.Scans)))
	for _, sc := range in.Scans {
		field(sc.Name)
		field(fmt.Sprint(len(sc.Data)) + ":" + sha256hex(sc.Data))
	}
	return hex.EncodeToString(h.Sum(nil))
}
