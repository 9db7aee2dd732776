package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
)

// ltv is what wireKeys chooses: the key store, the time-stamping authority, the source of
// revocation data and the PAdES level of new copies.
type ltv struct {
	keys   chungthuc.KeyStore
	closer io.Closer // releases PKCS#11 keys; nil when none
	ts     chungthuc.Timestamper
	rev    chungthuc.RevocationSource
	level  chungthuc.PAdESLevel
	devUse bool // the development PKI signs (no key file, or its fallback is "dev")
}

// wireKeys builds the keys, trusted time and revocation sources from the configuration:
//
//   - keys: the key configuration of CHUNGTHUC_KEYS_FILE (checked now: a key that does not
//     match its certificate stops start-up), else the development PKI;
//   - time-stamps: the TSA of CHUNGTHUC_TSA_URL, else the development TSA in-process when
//     the development PKI signs, else none;
//   - revocation data: the development PKI in-process for certificates it issued, else
//     fetched online (OCSP, CRL) for chains that reach a trust anchor: the development root,
//     the roots of the configured keys' chains and CHUNGTHUC_TRUST_ANCHORS;
//   - level: CHUNGTHUC_PADES_LEVEL, by default B-LTA when there is a TSA and B-B otherwise.
//
// Errors: EINVALID when a level above B-B is asked for without a TSA, and those of
// certs.ReadKeyConfig, KeyConfig.Open and certs.LoadTrustAnchors.
func wireKeys(cfg *Config, pki *certs.DevPKI, now func() time.Time) (*ltv, error) {
	l := &ltv{keys: pki, devUse: true}
	roots := x509.NewCertPool()
	if pki != nil {
		roots.AddCert(pki.Root())
	}
	if cfg.KeysFile != "" {
		kc, err := certs.ReadKeyConfig(cfg.KeysFile)
		if err != nil {
			return nil, err
		}
		getenv := cfg.getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		var fallback chungthuc.KeyStore
		if pki != nil {
			fallback = pki
		}
		ks, err := kc.Open(getenv, fallback)
		if err != nil {
			return nil, err
		}
		l.keys, l.closer, l.devUse = ks, ks, ks.UsesFallback()
		for _, chain := range ks.Chains() {
			if top := chain[len(chain)-1]; bytes.Equal(top.RawIssuer, top.RawSubject) && top.CheckSignatureFrom(top) == nil {
				roots.AddCert(top)
			}
		}
	}
	var anchors *x509.CertPool
	if cfg.TrustAnchors != "" {
		pool, list, err := certs.LoadTrustAnchors(cfg.TrustAnchors)
		if err != nil {
			l.close()
			return nil, err
		}
		anchors = pool
		for _, c := range list {
			roots.AddCert(c)
		}
	}
	switch {
	case cfg.TSAURL != "":
		l.ts = &certs.TSAClient{URL: cfg.TSAURL, Username: cfg.TSAUsername, Password: cfg.TSAPassword,
			Timeout: 10 * time.Second, Retries: 1, Roots: anchors}
	case l.devUse && pki != nil:
		ts, _, err := pki.TSA(now)
		if err != nil {
			l.close()
			return nil, err
		}
		l.ts = ts
	}
	l.rev = &revocationRouter{dev: pki, online: &certs.RevocationFetcher{Roots: roots, Now: now}}
	l.level = cfg.PAdESLevel
	switch {
	case l.level == "" && l.ts != nil:
		l.level = chungthuc.PAdESLTA
	case l.level == "":
		l.level = chungthuc.PAdESB
	case l.level != chungthuc.PAdESB && l.ts == nil:
		l.close()
		return nil, chungthuc.Errorf(chungthuc.EINVALID,
			"CHUNGTHUC_PADES_LEVEL=%s needs a time-stamping authority: set CHUNGTHUC_TSA_URL (or use the development PKI)", l.level)
	}
	return l, nil
}

func (l *ltv) close() {
	if l.closer != nil {
		_ = l.closer.Close()
		l.closer = nil
	}
}

// revocationRouter answers for development-PKI certificates in-process and fetches online
// for the others.
type revocationRouter struct {
	dev    *certs.DevPKI
	online chungthuc.RevocationSource
}

var _ chungthuc.RevocationSource = (*revocationRouter)(nil)

// Revocation implements chungthuc.RevocationSource. Errors: those of the source used; a
// chain that reaches no trust anchor is EINVALID with a hint at CHUNGTHUC_TRUST_ANCHORS.
func (r *revocationRouter) Revocation(ctx context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error) {
	if len(chain) == 0 {
		return &chungthuc.RevocationData{}, nil
	}
	if r.dev != nil && r.dev.Issued(chain[0]) {
		return r.dev.Revocation(ctx, chain)
	}
	data, err := r.online.Revocation(ctx, chain)
	if chungthuc.ErrorCode(err) == chungthuc.EINVALID {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s (add its root to CHUNGTHUC_TRUST_ANCHORS)", chungthuc.ErrorMessage(err))
	}
	return data, err
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
