package csc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// The remote-signing configuration of a service (CHUNGTHUC_CSC_CONFIG): which CSC
// credential signs for which officer of which unit, and which applies each unit's seal.
// A JSON file:
//
//	{"signers": [
//	  {"unit": "HB", "officer": 1, "url": "https://rs.example.vn", "client_id": "chungthuc",
//	   "client_secret_file": "/run/secrets/rs-hb", "credential_id": "cred-officer-1"},
//	  {"unit": "HB", "seal": true, "url": "https://rs.example.vn", "client_id": "chungthuc",
//	   "client_secret_env": "RS_HB_SECRET", "credential_id": "cred-seal-hb"}
//	]}
//
// The client secret is never in the file nor in the register: it is read from the file
// named by client_secret_file, or the environment variable named by client_secret_env,
// when the configuration is loaded. "login": true sends the client credentials to
// auth/login (HTTP Basic) instead of oauth2/token; "allow_loopback": true lets the URL be
// a loopback http address (the development server `chungthuc csc-dev` only). "auth_mode":
// "oauth2code" sends the signer to the provider's own page to authorise each signature
// (instead of an OTP typed on the signing page).

// SignerEntry is one line of the configuration file.
type SignerEntry struct {
	Unit             string `json:"unit"`
	Officer          int64  `json:"officer,omitempty"`
	Seal             bool   `json:"seal,omitempty"`
	URL              string `json:"url"`
	ClientID         string `json:"client_id"`
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	ClientSecretEnv  string `json:"client_secret_env,omitempty"`
	CredentialID     string `json:"credential_id"`
	Login            bool   `json:"login,omitempty"`
	AllowLoopback    bool   `json:"allow_loopback,omitempty"`
	// AuthMode is how the provider authorises each signature: "explicit" (default: the
	// signer's one-time code typed on our signing page) or "oauth2code" (the provider's own
	// page or app confirmation, oauth2code.go).
	AuthMode string `json:"auth_mode,omitempty"`
}

type signerKey struct {
	unit    string
	officer int64 // 0: the unit's seal
}

type signer struct {
	client     *Client
	credential string
	provider   bool // auth_mode oauth2code
}

// Signers are the configured remote-signing credentials, by unit and officer (or seal).
// A nil *Signers has none. It is safe for concurrent use.
type Signers struct {
	m map[signerKey]*signer
}

// LoadSigners reads the configuration file at path (see above), reading each client secret
// with getenv / the file system. Every problem is reported at once, with the entry's
// position, never with a secret. EINVALID.
func LoadSigners(path string, getenv func(string) string) (*Signers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "cannot read the remote signing configuration %s", path)
	}
	return ParseSigners(data, getenv)
}

// ParseSigners is LoadSigners for the file's contents.
func ParseSigners(data []byte, getenv func(string) string) (*Signers, error) {
	var f struct {
		Signers []SignerEntry `json:"signers"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "remote signing configuration: not the expected JSON ({\"signers\": [...]}): %v", err)
	}
	s := &Signers{m: map[signerKey]*signer{}}
	var errs []string
	for i, e := range f.Signers {
		where := fmt.Sprintf("signers[%d]", i)
		bad := func(format string, a ...any) { errs = append(errs, where+": "+fmt.Sprintf(format, a...)) }
		k := signerKey{unit: strings.ToUpper(strings.TrimSpace(e.Unit)), officer: e.Officer}
		switch {
		case k.unit == "":
			bad("unit is required")
		case e.Seal == (e.Officer > 0):
			bad("exactly one of officer (an officer id) or seal: true is required")
		case e.CredentialID == "":
			bad("credential_id is required")
		case (e.ClientSecretFile == "") == (e.ClientSecretEnv == ""):
			bad("exactly one of client_secret_file or client_secret_env is required (the secret is never written in this file)")
		}
		if e.Officer < 0 {
			bad("officer must be a positive id")
		}
		if _, dup := s.m[k]; dup {
			bad("a second entry for the same unit and signer")
		}
		var secret string
		if e.ClientSecretFile != "" {
			b, err := os.ReadFile(e.ClientSecretFile)
			if err != nil {
				bad("cannot read client_secret_file %s", e.ClientSecretFile)
			}
			secret = strings.TrimSpace(string(b))
		} else if e.ClientSecretEnv != "" {
			if secret = getenv(e.ClientSecretEnv); secret == "" {
				bad("the environment variable %s (client_secret_env) is empty", e.ClientSecretEnv)
			}
		}
		c, err := New(Config{BaseURL: e.URL, ClientID: e.ClientID, ClientSecret: secret, Login: e.Login, AllowLoopback: e.AllowLoopback})
		if err != nil {
			bad("url: %s", chungthuc.ErrorMessage(err))
			continue
		}
		if e.AuthMode != "" && e.AuthMode != "explicit" && e.AuthMode != "oauth2code" {
			bad("auth_mode must be \"explicit\" or \"oauth2code\"")
			continue
		}
		s.m[k] = &signer{client: c, credential: e.CredentialID, provider: e.AuthMode == "oauth2code"}
	}
	if len(errs) > 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "remote signing configuration: %s", strings.Join(errs, "; "))
	}
	return s, nil
}

// Has reports whether the officer (officerID > 0) or the seal (officerID 0) of unit
// unitCode has a configured credential.
func (s *Signers) Has(unitCode string, officerID int64) bool {
	if s == nil {
		return false
	}
	_, ok := s.m[signerKey{strings.ToUpper(unitCode), officerID}]
	return ok
}

// SignerRef names one configured signer: an officer (Officer > 0) or the seal (0) of Unit.
type SignerRef struct {
	Unit    string
	Officer int64
}

// Refs lists the configured signers, for checking them against the register at start.
func (s *Signers) Refs() []SignerRef {
	if s == nil {
		return nil
	}
	out := make([]SignerRef, 0, len(s.m))
	for k := range s.m {
		out = append(out, SignerRef{Unit: k.unit, Officer: k.officer})
	}
	return out
}

// Len is the number of configured credentials.
func (s *Signers) Len() int {
	if s == nil {
		return 0
	}
	return len(s.m)
}

// Sign has the configured credential of the officer (officerID > 0) or the seal (0) of
// unit unitCode sign one SHA-256 digest, authorised with the signer's one-time code (SCAL2:
// the authorisation covers exactly this digest). It returns the signature value and the
// credential's certificate chain (DER, end entity first). Errors: ENOTFOUND when nothing is
// configured for the signer; EFORBIDDEN when the service refused the code; EUNSUPPORTED
// for a credential authorised only at the provider's page (oauth2code); else the client's.
func (s *Signers) Sign(ctx context.Context, unitCode string, officerID int64, digest []byte, otp string) ([]byte, [][]byte, error) {
	if !s.Has(unitCode, officerID) {
		return nil, nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no remote signing credential is configured for this signer")
	}
	sg := s.m[signerKey{strings.ToUpper(unitCode), officerID}]
	tok, err := sg.client.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	cr, err := sg.client.CredentialInfo(ctx, tok, sg.credential)
	if err != nil {
		return nil, nil, err
	}
	if cr.Auth.Mode != "" && cr.Auth.Mode != "explicit" {
		return nil, nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "the credential is authorised at the provider's page (%s): configure \"auth_mode\": \"oauth2code\" for it", printable(cr.Auth.Mode, 20))
	}
	chain, err := cr.Chain()
	if err != nil {
		return nil, nil, err
	}
	algo := SignAlgoFor(cr)
	if algo == "" {
		return nil, nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "the credential's key is neither RSA nor EC")
	}
	hashes := [][]byte{digest}
	sad, _, err := sg.client.Authorize(ctx, tok, sg.credential, hashes, map[string]string{"OTP": strings.TrimSpace(otp)})
	if err != nil {
		return nil, nil, err
	}
	sigs, err := sg.client.SignHash(ctx, tok, sg.credential, sad, algo, hashes)
	if err != nil {
		return nil, nil, err
	}
	return sigs[0], chain, nil
}

// AtProvider reports whether the signer's credential is authorised at the provider's page
// (auth_mode oauth2code) rather than with a one-time code typed here.
func (s *Signers) AtProvider(unitCode string, officerID int64) bool {
	if !s.Has(unitCode, officerID) {
		return false
	}
	return s.m[signerKey{strings.ToUpper(unitCode), officerID}].provider
}

// AuthorizeAt returns the provider's page that authorises the signer's credential to sign
// exactly digest, coming back to redirectURI with state, and the PKCE verifier to keep
// for SignWithCode. ENOTFOUND when nothing is configured for the signer.
func (s *Signers) AuthorizeAt(unitCode string, officerID int64, digest []byte, redirectURI, state string) (authURL, verifier string, err error) {
	if !s.Has(unitCode, officerID) {
		return "", "", chungthuc.Errorf(chungthuc.ENOTFOUND, "no remote signing credential is configured for this signer")
	}
	sg := s.m[signerKey{strings.ToUpper(unitCode), officerID}]
	verifier, challenge := NewPKCE()
	return sg.client.AuthorizeURL(sg.credential, [][]byte{digest}, redirectURI, state, challenge), verifier, nil
}

// SignWithCode completes AuthorizeAt: it exchanges the code the provider's page returned
// (with the verifier) for the credential token, has the credential sign digest with it, and
// returns the signature value and the credential's chain (DER, end entity first).
// EFORBIDDEN when the provider refuses the code; else as Sign.
func (s *Signers) SignWithCode(ctx context.Context, unitCode string, officerID int64, digest []byte, code, redirectURI, verifier string) ([]byte, [][]byte, error) {
	if !s.Has(unitCode, officerID) {
		return nil, nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no remote signing credential is configured for this signer")
	}
	sg := s.m[signerKey{strings.ToUpper(unitCode), officerID}]
	credTok, err := sg.client.CredentialToken(ctx, code, redirectURI, verifier)
	if err != nil {
		return nil, nil, err
	}
	tok, err := sg.client.Token(ctx)
	if err != nil {
		return nil, nil, err
	}
	cr, err := sg.client.CredentialInfo(ctx, tok, sg.credential)
	if err != nil {
		return nil, nil, err
	}
	chain, err := cr.Chain()
	if err != nil {
		return nil, nil, err
	}
	algo := SignAlgoFor(cr)
	if algo == "" {
		return nil, nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "the credential's key is neither RSA nor EC")
	}
	sigs, err := sg.client.SignHash(ctx, credTok, sg.credential, "", algo, [][]byte{digest})
	if err != nil {
		return nil, nil, err
	}
	return sigs[0], chain, nil
}

// ProviderOrigin is scheme://host of the signer's remote signing service (where its
// provider's page is), "" when nothing is configured.
func (s *Signers) ProviderOrigin(unitCode string, officerID int64) string {
	if !s.Has(unitCode, officerID) {
		return ""
	}
	u := s.m[signerKey{strings.ToUpper(unitCode), officerID}].client.base
	return u.Scheme + "://" + u.Host
}
