package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// A key configuration file (CHUNGTHUC_KEYS_FILE) says where each unit's seal and each
// officer's personal key lives. Example:
//
//	{
//	  "fallback": "dev",
//	  "units": {
//	    "HB": {"pkcs11": {"module": "/usr/lib/softhsm/libsofthsm2.so", "token_label": "HB-seal",
//	                      "key_label": "seal", "pin_file": "/run/secrets/pl-pin", "cert": "pl-seal.pem"}}
//	  },
//	  "officers": {
//	    "12": {"pkcs12": {"file": "officer12.p12", "password_env": "OFFICER12_P12_PASSWORD"}},
//	    "13": {"pem": {"cert": "o13.pem", "key": "o13.key", "password_env": "O13_KEY_PASSWORD"}}
//	  }
//	}
//
// Relative paths are relative to the configuration file's directory. Secrets (PINs,
// passwords) are never in the file: it names an environment variable (pin_env,
// password_env) or a file (pin_file, password_file) holding them. "fallback": "dev" lets
// units and officers that are not listed use the fallback key store (the development PKI);
// without it they have no key (ENOTFOUND).

// KeyConfig is a parsed key configuration file.
type KeyConfig struct {
	// Fallback is "dev" (unlisted units and officers use the fallback key store) or ""
	// (they have no key).
	Fallback string               `json:"fallback"`
	Units    map[string]KeySource `json:"units"`
	Officers map[string]KeySource `json:"officers"`

	dir string // of the file, for relative paths
}

// KeySource is one key: exactly one of its fields is set.
type KeySource struct {
	PKCS11 *PKCS11Source `json:"pkcs11,omitempty"`
	PEM    *PEMSource    `json:"pem,omitempty"`
	PKCS12 *PKCS12Source `json:"pkcs12,omitempty"`
}

// PKCS11Source is a key on a PKCS#11 token and its certificate (chain) file.
type PKCS11Source struct {
	Module     string `json:"module"`
	TokenLabel string `json:"token_label"`
	KeyLabel   string `json:"key_label,omitempty"`
	KeyID      string `json:"key_id,omitempty"` // hexadecimal CKA_ID
	PINEnv     string `json:"pin_env,omitempty"`
	PINFile    string `json:"pin_file,omitempty"`
	Cert       string `json:"cert"`
	Sessions   int    `json:"sessions,omitempty"`
}

// PEMSource is a PEM certificate (chain) file and a PEM key file.
type PEMSource struct {
	Cert         string `json:"cert"`
	Key          string `json:"key"`
	PasswordEnv  string `json:"password_env,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
}

// PKCS12Source is a PKCS#12 file.
type PKCS12Source struct {
	File         string `json:"file"`
	PasswordEnv  string `json:"password_env,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
}

// maxKeyConfig bounds the configuration file.
const maxKeyConfig = 1 << 20

// ReadKeyConfig reads and checks the shape of a key configuration file (nothing is opened
// yet). Unknown fields are refused, so a misspelt name — or a PIN written into the file —
// stops start-up.
//
// Errors: ENOTFOUND when the file is missing; ETOOLARGE above 1 MiB; EINVALID naming the
// problem (never a value) for malformed JSON, unknown fields, bad unit codes or officer
// ids, entries with none or several sources, or missing required fields.
func ReadKeyConfig(path string) (*KeyConfig, error) {
	if st, err := os.Stat(path); err == nil && st.Size() > maxKeyConfig {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "key configuration %s is larger than %d bytes", path, maxKeyConfig)
	}
	data, err := readNamedFile(path, "key configuration")
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c KeyConfig
	if err := dec.Decode(&c); err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "key configuration %s: %s", path, jsonProblem(err))
	}
	if dec.More() {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "key configuration %s: more than one JSON value", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	c.dir = filepath.Dir(abs)
	if c.Fallback != "" && c.Fallback != "dev" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "key configuration %s: fallback must be \"dev\" or absent, not %q", path, c.Fallback)
	}
	for code, s := range c.Units {
		if err := chungthuc.CheckUnitCode(code); err != nil {
			return nil, withPrefix("key configuration "+path, err)
		}
		if err := s.check(); err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "key configuration %s: unit %s: %v", path, code, err)
		}
	}
	for id, s := range c.Officers {
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "key configuration %s: officer id %q is not a positive number", path, id)
		}
		if err := s.check(); err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "key configuration %s: officer %s: %v", path, id, err)
		}
	}
	return &c, nil
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be a %s", te.Field, te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the file is empty or truncated"
	}
	return "malformed JSON"
}

func (s KeySource) check() error {
	n := 0
	if s.PKCS11 != nil {
		n++
		p := s.PKCS11
		switch {
		case p.Module == "" || p.TokenLabel == "" || p.Cert == "":
			return errors.New("pkcs11 needs module, token_label and cert")
		case p.KeyLabel == "" && p.KeyID == "":
			return errors.New("pkcs11 needs key_label or key_id")
		case (p.PINEnv == "") == (p.PINFile == ""):
			return errors.New("pkcs11 needs exactly one of pin_env and pin_file")
		}
		if p.KeyID != "" {
			if _, err := hex.DecodeString(p.KeyID); err != nil {
				return errors.New("pkcs11 key_id must be hexadecimal")
			}
		}
	}
	if s.PEM != nil {
		n++
		if s.PEM.Cert == "" || s.PEM.Key == "" {
			return errors.New("pem needs cert and key")
		}
		if s.PEM.PasswordEnv != "" && s.PEM.PasswordFile != "" {
			return errors.New("pem takes password_env or password_file, not both")
		}
	}
	if s.PKCS12 != nil {
		n++
		if s.PKCS12.File == "" {
			return errors.New("pkcs12 needs file")
		}
		if s.PKCS12.PasswordEnv != "" && s.PKCS12.PasswordFile != "" {
			return errors.New("pkcs12 takes password_env or password_file, not both")
		}
	}
	if n != 1 {
		return errors.New("give exactly one of pkcs11, pem and pkcs12")
	}
	return nil
}

// ConfiguredKeyStore is the chungthuc.KeyStore of a key configuration: every listed key
// was opened and checked against its certificate when the store was made; unlisted units
// and officers go to the fallback store when the configuration says so. It is safe for
// concurrent use; Close releases the PKCS#11 keys.
type ConfiguredKeyStore struct {
	seals    map[string]*chungthuc.SigningKey
	officers map[int64]*chungthuc.SigningKey
	fallback chungthuc.KeyStore // nil: no fallback
	closers  []io.Closer
}

var _ chungthuc.KeyStore = (*ConfiguredKeyStore)(nil)

// Open opens every key of the configuration. getenv reads the variables named by pin_env
// and password_env. fallback is the store for unlisted units and officers, used only when
// c.Fallback is "dev". A key that does not match its certificate refuses the whole store
// (keys already opened are closed again).
//
// Errors, prefixed with the unit or officer: EINVALID for an empty PIN/password variable or
// file, a missing fallback store when c.Fallback is "dev", or a key that does not match its
// certificate; ENOTFOUND for missing files; EUNAUTHORIZED for a wrong PIN or password;
// EUNAVAILABLE when a token is absent; EUNSUPPORTED for PKCS#11 in a build without cgo.
// No message contains a PIN or password.
func (c *KeyConfig) Open(getenv func(string) string, fallback chungthuc.KeyStore) (*ConfiguredKeyStore, error) {
	s := &ConfiguredKeyStore{seals: map[string]*chungthuc.SigningKey{}, officers: map[int64]*chungthuc.SigningKey{}}
	if c.Fallback == "dev" {
		if fallback == nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "the key configuration asks for the development PKI as fallback, but none is available")
		}
		s.fallback = fallback
	}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close() // always nil
		}
	}()
	codes := make([]string, 0, len(c.Units))
	for code := range c.Units {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		sk, err := c.open(c.Units[code], getenv, s)
		if err != nil {
			return nil, withPrefix("seal of unit "+code, err)
		}
		s.seals[code] = sk
	}
	ids := make([]int64, 0, len(c.Officers))
	for id := range c.Officers {
		n, _ := strconv.ParseInt(id, 10, 64)
		ids = append(ids, n)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		sk, err := c.open(c.Officers[strconv.FormatInt(id, 10)], getenv, s)
		if err != nil {
			return nil, withPrefix(fmt.Sprintf("key of officer %d", id), err)
		}
		s.officers[id] = sk
	}
	ok = true
	return s, nil
}

func (c *KeyConfig) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// envNameRE is what an environment variable name named by pin_env/password_env must look
// like; anything else is refused without being repeated (it may be the secret itself,
// written into the wrong field).
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// secret reads a PIN or password from an environment variable or a file; what names it in
// messages. An unset source gives "". Messages name the variable but never a secret
// file's path or contents: a PIN typed into pin_file by mistake must not be echoed.
func (c *KeyConfig) secret(getenv func(string) string, env, file, what string) (string, error) {
	switch {
	case env != "":
		if !envNameRE.MatchString(env) {
			return "", chungthuc.Errorf(chungthuc.EINVALID, "the %s variable name is not an environment variable name (letters, digits, '_')", what)
		}
		v := getenv(env)
		if v == "" {
			return "", chungthuc.Errorf(chungthuc.EINVALID, "the %s variable %s is not set", what, env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(c.path(file))
		if err != nil {
			return "", chungthuc.Errorf(chungthuc.EINVALID, "the %s file cannot be read (check the path and permissions in the key configuration)", what)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", chungthuc.Errorf(chungthuc.EINVALID, "the %s file is empty", what)
		}
		return v, nil
	}
	return "", nil
}

func (c *KeyConfig) open(src KeySource, getenv func(string) string, s *ConfiguredKeyStore) (*chungthuc.SigningKey, error) {
	switch {
	case src.PEM != nil:
		pw, err := c.secret(getenv, src.PEM.PasswordEnv, src.PEM.PasswordFile, "password")
		if err != nil {
			return nil, err
		}
		return LoadPEM(c.path(src.PEM.Cert), c.path(src.PEM.Key), pw)
	case src.PKCS12 != nil:
		pw, err := c.secret(getenv, src.PKCS12.PasswordEnv, src.PKCS12.PasswordFile, "password")
		if err != nil {
			return nil, err
		}
		return LoadPKCS12(c.path(src.PKCS12.File), pw)
	case src.PKCS11 != nil:
		p := src.PKCS11
		pin, err := c.secret(getenv, p.PINEnv, p.PINFile, "PIN")
		if err != nil {
			return nil, err
		}
		certPath := c.path(p.Cert)
		data, err := readNamedFile(certPath, "certificate file")
		if err != nil {
			return nil, err
		}
		certs, err := ParseCertificatePEM(data)
		if err != nil {
			return nil, withPrefix(certPath, err)
		}
		leaf := certs[0]
		for _, ct := range certs {
			if !ct.IsCA {
				leaf = ct
				break
			}
		}
		id, _ := hex.DecodeString(p.KeyID)
		key, err := OpenPKCS11(PKCS11Config{
			Module: c.path(p.Module), TokenLabel: p.TokenLabel, KeyLabel: p.KeyLabel, KeyID: id, PIN: pin, Sessions: p.Sessions,
		}, leaf)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, key)
		return &chungthuc.SigningKey{Signer: key, Chain: OrderChain(leaf, certs)}, nil
	}
	return nil, chungthuc.Errorf(chungthuc.EINVALID, "no key source")
}

// SealKey implements chungthuc.KeyStore. Errors: ENOTFOUND when no seal is configured for
// u's code and there is no fallback (else the fallback's errors); EINVALID for a nil unit;
// the context's error when ctx is done.
func (s *ConfiguredKeyStore) SealKey(ctx context.Context, u *chungthuc.Unit) (*chungthuc.SigningKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no unit")
	}
	if sk := s.seals[u.Code]; sk != nil {
		return copyKey(sk), nil
	}
	if s.fallback != nil {
		return s.fallback.SealKey(ctx, u)
	}
	return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no seal key is configured for unit %s", u.Code)
}

// OfficerKey implements chungthuc.KeyStore. Errors: ENOTFOUND when no key is configured
// for o and there is no fallback (else the fallback's errors); ECONFLICT when o.CertPEM is
// set and names another certificate; EINVALID for a nil officer; the context's error.
func (s *ConfiguredKeyStore) OfficerKey(ctx context.Context, o *chungthuc.Officer) (*chungthuc.SigningKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no officer")
	}
	sk := s.officers[o.ID]
	if sk == nil {
		if s.fallback != nil {
			return s.fallback.OfficerKey(ctx, o)
		}
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no signing key is configured for officer %d", o.ID)
	}
	if len(o.CertPEM) > 0 && !sameLeaf(o.CertPEM, sk.Chain[0]) {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT,
			"officer %d's certificate in the register is not the one of the configured key (%q)", o.ID, sk.Chain[0].Subject.String())
	}
	return copyKey(sk), nil
}

// Configured reports whether the store has its own key for the unit code or officer id
// (not the fallback's); pass "" or 0 for the one not asked about.
func (s *ConfiguredKeyStore) Configured(unitCode string, officerID int64) bool {
	if unitCode != "" {
		return s.seals[unitCode] != nil
	}
	return s.officers[officerID] != nil
}

// UsesFallback reports whether unlisted units and officers use the fallback store.
func (s *ConfiguredKeyStore) UsesFallback() bool { return s.fallback != nil }

// Chains returns the certificate chains of the configured keys (for trust anchors of
// revocation fetching).
func (s *ConfiguredKeyStore) Chains() [][]*x509.Certificate {
	var out [][]*x509.Certificate
	for _, sk := range s.seals {
		out = append(out, sk.Chain)
	}
	for _, sk := range s.officers {
		out = append(out, sk.Chain)
	}
	return out
}

// Close releases the PKCS#11 keys; it always returns nil.
func (s *ConfiguredKeyStore) Close() error {
	for _, c := range s.closers {
		_ = c.Close()
	}
	s.closers = nil
	return nil
}

// copyKey copies a SigningKey, so that callers cannot change the store's chain.
func copyKey(sk *chungthuc.SigningKey) *chungthuc.SigningKey {
	return &chungthuc.SigningKey{Signer: sk.Signer, Chain: append([]*x509.Certificate(nil), sk.Chain...)}
}

// sameLeaf reports whether certPEM holds c.
func sameLeaf(certPEM []byte, c *x509.Certificate) bool {
	b, _ := pem.Decode(certPEM)
	return b != nil && b.Type == "CERTIFICATE" && bytes.Equal(b.Bytes, c.Raw)
}
