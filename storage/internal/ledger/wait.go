package ledger

import "github.com/chungthuc/chungthuc"

// CheckWait refuses a signature wait that cannot be recorded: EINVALID for a step other
// than the officer's signature or the seal, an empty state, a zero deadline or an empty
// actor.
func CheckWait(w *chungthuc.SignatureWait, actor string) error {
	switch {
	case w.Step != chungthuc.StepOfficerSignature && w.Step != chungthuc.StepSeal:
		return chungthuc.Errorf(chungthuc.EINVALID, "a signature wait is for the officer's signature or the seal, not %q", w.Step)
	case len(w.State) == 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "a signature wait needs its state")
	case w.ExpiresAt.IsZero():
		return chungthuc.Errorf(chungthuc.EINVALID, "a signature wait needs a deadline")
	case actor == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "a signature wait needs an actor")
	}
	return nil
}

// WaitLimit bounds a listing of waits to 1..1000 (0 means 100).
func WaitLimit(limit int) int {
	if limit <= 0 {
		return 100
	}
	return min(limit, 1000)
}

// WaitConflict is the error of an entry whose wait is not where the change needs it.
func WaitConflict(id int64, step chungthuc.SignatureStep, have string) error {
	if have == "" {
		have = "none"
	}
	return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d cannot wait for %s: its wait is %s", id, step, have)
}

// WaitDetail is the audit detail of a wait recorded for entry c.
func WaitDetail(c *chungthuc.Certification, w *chungthuc.SignatureWait) string {
	return Detail(map[string]any{"step": string(w.Step), "expires_at": FormatTime(w.ExpiresAt),
		"number": c.Number, "year": c.Year})
}

// UnitExternalDetail is the audit detail of SetUnitExternalSigning: the seal certificate's
// fingerprint (or that it was removed) and the default. EINVALID when sealCertPEM is not
// empty and holds no certificate.
func UnitExternalDetail(sealCertPEM []byte, byDefault bool) (string, error) {
	d := map[string]any{"external_by_default": byDefault, "seal_cert_removed": true}
	if len(sealCertPEM) > 0 {
		fp, err := CertFingerprint(sealCertPEM)
		if err != nil {
			return "", err
		}
		d = map[string]any{"external_by_default": byDefault, "seal_cert_sha256": fp}
	}
	return Detail(d), nil
}
