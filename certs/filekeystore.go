package certs

import (
	"context"
	"fmt"
	"sort"

	"github.com/chungthuc/chungthuc"
)

// KeyFile says where one production key lives: a PKCS#12 file, or a PEM certificate
// (chain) file and a PEM key file. Password opens the PKCS#12 file or an encrypted key.
type KeyFile struct {
	PKCS12   string
	Cert     string
	Key      string
	Password string
}

// Load reads the key with LoadPKCS12 or LoadPEM (see their errors); EINVALID when the
// KeyFile names neither or both forms.
func (f KeyFile) Load() (*chungthuc.SigningKey, error) {
	switch {
	case f.PKCS12 != "" && f.Cert == "" && f.Key == "":
		return LoadPKCS12(f.PKCS12, f.Password)
	case f.PKCS12 == "" && f.Cert != "" && f.Key != "":
		return LoadPEM(f.Cert, f.Key, f.Password)
	default:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "a key file needs either a PKCS#12 path or both a certificate and a key path")
	}
}

// FileKeyStore is a chungthuc.KeyStore over keys configured as files, one per unit seal
// (by unit code) and per officer (by officer ID). Every key is loaded and checked against
// its certificate when the store is made, so a wrong file stops start-up instead of a
// signature. It is read-only afterwards and safe for concurrent use.
type FileKeyStore struct {
	seals    map[string]*chungthuc.SigningKey
	officers map[int64]*chungthuc.SigningKey
}

var _ chungthuc.KeyStore = (*FileKeyStore)(nil)

// NewFileKeyStore loads every configured key. Errors are those of KeyFile.Load, prefixed
// with the unit or officer they belong to.
func NewFileKeyStore(seals map[string]KeyFile, officers map[int64]KeyFile) (*FileKeyStore, error) {
	s := &FileKeyStore{seals: map[string]*chungthuc.SigningKey{}, officers: map[int64]*chungthuc.SigningKey{}}
	codes := make([]string, 0, len(seals))
	for code := range seals {
		codes = append(codes, code)
	}
	sort.Strings(codes) // report the first bad file deterministically
	for _, code := range codes {
		sk, err := seals[code].Load()
		if err != nil {
			return nil, withPrefix("seal of unit "+code, err)
		}
		s.seals[code] = sk
	}
	ids := make([]int64, 0, len(officers))
	for id := range officers {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		sk, err := officers[id].Load()
		if err != nil {
			return nil, withPrefix(fmt.Sprintf("key of officer %d", id), err)
		}
		s.officers[id] = sk
	}
	return s, nil
}

// SealKey implements chungthuc.KeyStore. Errors: ENOTFOUND when no seal is configured for
// u's code; EINVALID for a nil unit; the context's error when ctx is done.
func (s *FileKeyStore) SealKey(ctx context.Context, u *chungthuc.Unit) (*chungthuc.SigningKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no unit")
	}
	sk := s.seals[u.Code]
	if sk == nil {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no seal key is configured for unit %s", u.Code)
	}
	return copyKey(sk), nil
}

// OfficerKey implements chungthuc.KeyStore. Errors: ENOTFOUND when no key is configured
// for o; ECONFLICT when o.CertPEM is set and names another certificate; EINVALID for a
// nil officer; the context's error when ctx is done.
func (s *FileKeyStore) OfficerKey(ctx context.Context, o *chungthuc.Officer) (*chungthuc.SigningKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no officer")
	}
	sk := s.officers[o.ID]
	if sk == nil {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no signing key is configured for officer %d", o.ID)
	}
	if len(o.CertPEM) > 0 && !sameLeaf(o.CertPEM, sk.Chain[0]) {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT,
			"officer %d's certificate in the register is not the one of the configured key (%q)", o.ID, sk.Chain[0].Subject.String())
	}
	return copyKey(sk), nil
}
