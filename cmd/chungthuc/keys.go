package main

import (
	"context"
	"crypto/x509"
	"io"
	"path/filepath"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/certs/devpki"
)

// ltv is what wireKeys chooses: the key store, the development PKI (nil in production key
// mode), the trust pool, the time-stamping authority, the source of revocation data and the
// PAdES level of new copies.
type ltv struct {
	keys   chungthuc.KeyStore
	closer io.Closer   // releases PKCS#11 keys; nil when none
	pki    *devpki.PKI // nil unless the development PKI is in use
	trust  *x509.CertPool
	ts     chungthuc.Timestamper // nil: no TSA (B-B only)
	rev    chungthuc.RevocationSource
	level  chungthuc.PAdESLevel
}

// devPKIInUse reports whether the configuration uses the development PKI: when no key
// configuration is given (the embedded default), or when the key configuration asks for
// it explicitly ("fallback": "dev"). It returns the key configuration read, if any.
// Errors: those of certs.ReadKeyConfig.
func devPKIInUse(cfg *Config) (bool, *certs.KeyConfig, error) {
	if cfg.KeysFile == "" {
		return true, nil, nil
	}
	kc, err := certs.ReadKeyConfig(cfg.KeysFile)
	if err != nil {
		return false, nil, err
	}
	return kc.Fallback == "dev", kc, nil
}

// wireKeys builds the keys, trust, trusted time and revocation sources from the
// configuration:
//
//   - the development PKI under $CHUNGTHUC_DATA/pki: opened (created on first use) only
//     when devPKIInUse; in production key mode nothing is created there;
//   - keys: the key configuration of CHUNGTHUC_KEYS_FILE (checked now: a key that does not
//     match its certificate stops start-up), else the development PKI;
//   - trust: the one pool (certs.TrustPool) of CHUNGTHUC_TRUST_ANCHORS, the development
//     root when the dev PKI is in use, and the roots of the configured keys' chains;
//   - time-stamps: the TSA of CHUNGTHUC_TSA_URL (its certificate checked against the trust
//     pool when CHUNGTHUC_TRUST_ANCHORS is set), else the development TSA in-process when
//     the development PKI is in use, else none;
//   - revocation data: the development PKI in-process for certificates it issued, else
//     fetched online (OCSP, CRL) for chains that reach the trust pool;
//   - level: CHUNGTHUC_PADES_LEVEL, by default B-LTA when there is a TSA and B-B otherwise.
//
// Errors: EINVALID when a level above B-B is asked for without a TSA, and those of
// certs.ReadKeyConfig, devpki.Open, KeyConfig.Open and certs.TrustPool.
func wireKeys(cfg *Config, now func() time.Time) (*ltv, error) {
	l := &ltv{}
	ok := false
	defer func() {
		if !ok {
			l.close()
		}
	}()
	dev, kc, err := devPKIInUse(cfg)
	if err != nil {
		return nil, err
	}
	var roots []*x509.Certificate
	if dev {
		l.pki, err = devpki.Open(filepath.Join(cfg.DataDir, "pki"), devpki.Options{Algorithm: cfg.KeyAlgorithm, Now: now, BaseURL: cfg.BaseURL})
		if err != nil {
			return nil, err
		}
		l.keys = l.pki
		roots = append(roots, l.pki.Root())
	}
	var chains [][]*x509.Certificate
	if kc != nil {
		var fallback chungthuc.KeyStore
		if l.pki != nil {
			fallback = l.pki
		}
		ks, err := kc.Open(cfg.env, fallback)
		if err != nil {
			return nil, err
		}
		l.keys, l.closer = ks, ks
		chains = ks.Chains()
	}
	if l.trust, err = certs.TrustPool(cfg.TrustAnchors, roots, chains); err != nil {
		return nil, err
	}
	switch {
	case cfg.TSAURL != "":
		c := &certs.TSAClient{URL: cfg.TSAURL, Username: cfg.TSAUsername, Password: cfg.TSAPassword, Timeout: 10 * time.Second, Retries: 1}
		if cfg.TrustAnchors != "" {
			c.Roots = l.trust
		}
		l.ts = c
	case l.pki != nil:
		if l.ts, _, err = l.pki.TSA(now); err != nil {
			return nil, err
		}
	}
	router := &certs.RevocationRouter{Online: &certs.RevocationFetcher{Roots: l.trust, Now: now}}
	if l.pki != nil {
		router.Local = l.pki
	}
	l.rev = router
	l.level = cfg.PAdESLevel
	switch {
	case l.level == "" && l.ts != nil:
		l.level = chungthuc.PAdESLTA
	case l.level == "":
		l.level = chungthuc.PAdESB
	case l.level != chungthuc.PAdESB && l.ts == nil:
		return nil, chungthuc.Errorf(chungthuc.EINVALID,
			"CHUNGTHUC_PADES_LEVEL=%s needs a time-stamping authority: set CHUNGTHUC_TSA_URL (or use the development PKI)", l.level)
	}
	ok = true
	return l, nil
}

func (l *ltv) close() {
	if l.closer != nil {
		_ = l.closer.Close() // ConfiguredKeyStore.Close always returns nil
		l.closer = nil
	}
}

// configuredOfficerCert returns the certificate (PEM) of o's key in the key configuration,
// or nil when o's key is not configured there (it then comes from the development PKI).
func (a *app) configuredOfficerCert(ctx context.Context, o *chungthuc.Officer) []byte {
	cs, ok := a.keys.(*certs.ConfiguredKeyStore)
	if !ok || !cs.Configured("", o.ID) {
		return nil
	}
	sk, err := cs.OfficerKey(ctx, &chungthuc.Officer{ID: o.ID})
	if err != nil {
		return nil
	}
	return certs.EncodeCertificatePEM(sk.Chain[0])
}
