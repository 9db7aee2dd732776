package csc

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DevCredential is one key the development server signs with: any crypto.Signer (a key
// file or a PKCS#11 object, certs.LoadKeyConfig gives both) and its certificate chain,
// end entity first.
type DevCredential struct {
	ID          string
	Description string
	Key         crypto.Signer
	Chain       []*x509.Certificate
	// AuthMode is how signatures are authorised: "explicit" (or empty: the fixed OTP sent to
	// credentials/authorize) or "oauth2code" (the server's own page, oauth2dev.go).
	AuthMode string
}

// DevServer is a development CSC v2 server: SCAL2 credentials, explicit authorisation
// with a fixed one-time code, SADs bound to the exact hashes, single use and expiring.
// It is for tests and the embedded default (`chungthuc csc-dev`), never for production:
// the one-time code is fixed.
type DevServer struct {
	ClientID, ClientSecret string
	OTP                    string        // the fixed one-time code
	SADLifetime            time.Duration // 5 min when zero
	Now                    func() time.Time

	mu     sync.Mutex
	creds  map[string]*DevCredential
	order  []string
	tokens map[string]time.Time // access token → expiry
	sads   map[string]sadGrant  // SAD, or credential-scoped access token (oauth2code) → grant
	codes  map[string]codeGrant // authorisation code (oauth2code) → what it authorises
}

type sadGrant struct {
	credential string
	hashes     string // the authorised hashes, joined
	expires    time.Time
}

// NewDevServer returns a server for these credentials and client credentials.
func NewDevServer(clientID, clientSecret, otp string, creds ...*DevCredential) *DevServer {
	s := &DevServer{ClientID: clientID, ClientSecret: clientSecret, OTP: otp,
		creds: map[string]*DevCredential{}, tokens: map[string]time.Time{}, sads: map[string]sadGrant{}, codes: map[string]codeGrant{}}
	for _, c := range creds {
		s.creds[c.ID] = c
		s.order = append(s.order, c.ID)
	}
	return s
}

func (s *DevServer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ServeHTTP implements the CSC v2 methods under /csc/v2/.
func (s *DevServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.TrimPrefix(r.URL.Path, "/csc/v2/") == "oauth2/authorize" {
		s.authorizePage(w, r)
		return
	}
	if r.Method != http.MethodPost {
		fail(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	method := strings.TrimPrefix(r.URL.Path, "/csc/v2/")
	switch method {
	case "info":
		reply(w, map[string]any{"specs": "2.0.0.0", "name": "chungthuc csc-dev", "region": "VN",
			"lang": "vi", "description": "development remote signing service (fixed one-time code)",
			"authType": []string{"basic", "oauth2client", "oauth2code"},
			"methods":  []string{"auth/login", "oauth2/authorize", "oauth2/token", "credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"}})
		return
	case "auth/login":
		id, secret, ok := r.BasicAuth()
		if !ok || !s.clientOK(id, secret) {
			fail(w, http.StatusUnauthorized, "invalid_client", "wrong client credentials")
			return
		}
		s.issueToken(w)
		return
	case "oauth2/token":
		if r.ParseForm() == nil && r.PostForm.Get("grant_type") == "authorization_code" {
			s.exchangeCode(w, r)
			return
		}
		if r.PostForm.Get("grant_type") != "client_credentials" {
			fail(w, http.StatusBadRequest, "unsupported_grant_type", "client_credentials or authorization_code only")
			return
		}
		if !s.clientOK(r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")) {
			fail(w, http.StatusUnauthorized, "invalid_client", "wrong client credentials")
			return
		}
		s.issueToken(w)
		return
	}
	if !s.tokenOK(r.Header.Get("Authorization")) {
		fail(w, http.StatusUnauthorized, "invalid_token", "missing or expired access token")
		return
	}
	var req struct {
		CredentialID     string   `json:"credentialID"`
		NumSignatures    int      `json:"numSignatures"`
		Hashes           []string `json:"hashes"`
		HashAlgorithmOID string   `json:"hashAlgorithmOID"`
		SignAlgo         string   `json:"signAlgo"`
		SAD              string   `json:"SAD"`
		AuthData         []struct {
			ID    string `json:"id"`
			Value string `json:"value"`
		} `json:"authData"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "invalid_request", "malformed JSON body")
		return
	}
	if method == "credentials/list" {
		reply(w, map[string]any{"credentialIDs": s.order})
		return
	}
	cred := s.creds[req.CredentialID]
	if cred == nil {
		fail(w, http.StatusBadRequest, "invalid_request", "invalid parameter credentialID")
		return
	}
	switch method {
	case "credentials/info":
		reply(w, credentialInfo(cred))
	case "credentials/authorize":
		s.authorize(w, cred, req.Hashes, req.HashAlgorithmOID, req.NumSignatures, req.AuthData)
	case "signatures/signHash":
		sad := req.SAD
		if sad == "" { // a credential-scoped token from the provider's page stands for the SAD
			sad, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		s.signHash(w, cred, sad, req.Hashes, req.HashAlgorithmOID, req.SignAlgo)
	default:
		fail(w, http.StatusNotFound, "invalid_request", "unknown method")
	}
}

func credentialInfo(c *DevCredential) map[string]any {
	var certs []string
	for _, ct := range c.Chain {
		certs = append(certs, base64.StdEncoding.EncodeToString(ct.Raw))
	}
	key := map[string]any{"status": "enabled"}
	switch pub := c.Key.Public().(type) {
	case *rsa.PublicKey:
		key["algo"] = []string{OIDRSAEncryption}
		key["len"] = pub.N.BitLen()
	case *ecdsa.PublicKey:
		key["algo"] = []string{OIDECPublicKey}
		key["len"] = pub.Curve.Params().BitSize
		key["curve"] = pub.Curve.Params().Name
	}
	ee := c.Chain[0]
	return map[string]any{"description": c.Description, "key": key,
		"cert": map[string]any{"status": "valid", "certificates": certs, "issuerDN": ee.Issuer.String(),
			"subjectDN": ee.Subject.String(), "serialNumber": ee.SerialNumber.Text(16),
			"validFrom": ee.NotBefore.UTC().Format("20060102150405Z"), "validTo": ee.NotAfter.UTC().Format("20060102150405Z")},
		"auth": authInfo(c),
		"SCAL": "2", "multisign": 16, "lang": "vi"}
}

func authInfo(c *DevCredential) map[string]any {
	if c.AuthMode == "oauth2code" {
		return map[string]any{"mode": "oauth2code"}
	}
	return map[string]any{"mode": "explicit", "objects": []map[string]any{
		{"type": "Password", "id": "OTP", "format": "N", "label": "Mã xác thực một lần",
			"description": "development server: the fixed one-time code"}}}
}

func (s *DevServer) authorize(w http.ResponseWriter, c *DevCredential, hashes []string, hashOID string, num int, authData []struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}) {
	if c.AuthMode == "oauth2code" {
		fail(w, http.StatusBadRequest, "invalid_request", "this credential is authorised at oauth2/authorize (scope credential)")
		return
	}
	if hashOID != OIDSHA256 || len(hashes) == 0 || len(hashes) > 16 || num != len(hashes) || !validHashes(hashes) {
		fail(w, http.StatusBadRequest, "invalid_request", "SCAL2 needs 1–16 SHA-256 hashes and numSignatures equal to their count")
		return
	}
	otp := ""
	for _, a := range authData {
		if a.ID == "OTP" {
			otp = a.Value
		}
	}
	if subtle.ConstantTimeCompare([]byte(otp), []byte(s.OTP)) != 1 {
		fail(w, http.StatusBadRequest, "invalid_otp", "the OTP is invalid")
		return
	}
	life := s.SADLifetime
	if life <= 0 {
		life = 5 * time.Minute
	}
	sad := randomToken()
	s.mu.Lock()
	s.sads[sad] = sadGrant{credential: c.ID, hashes: strings.Join(hashes, ","), expires: s.now().Add(life)}
	s.mu.Unlock()
	reply(w, map[string]any{"SAD": sad, "expiresIn": int(life / time.Second)})
}

func (s *DevServer) signHash(w http.ResponseWriter, c *DevCredential, sad string, hashes []string, hashOID, signAlgo string) {
	s.mu.Lock()
	g, ok := s.sads[sad]
	if ok {
		delete(s.sads, sad) // single use, whatever happens next
	}
	s.mu.Unlock()
	switch {
	case !ok || g.credential != c.ID:
		fail(w, http.StatusBadRequest, "invalid_request", "invalid parameter SAD")
		return
	case !s.now().Before(g.expires):
		fail(w, http.StatusBadRequest, "invalid_request", "SAD expired")
		return
	case g.hashes != strings.Join(hashes, ",") || hashOID != OIDSHA256:
		fail(w, http.StatusBadRequest, "invalid_request", "the hashes are not the ones the SAD authorises")
		return
	}
	_, isRSA := c.Key.Public().(*rsa.PublicKey)
	if (isRSA && signAlgo != OIDRSAEncryption && signAlgo != OIDSHA256WithRSA) || (!isRSA && signAlgo != OIDECDSAWithSHA256) {
		fail(w, http.StatusBadRequest, "invalid_request", "invalid parameter signAlgo for this key")
		return
	}
	var sigs []string
	for _, h := range hashes {
		d, _ := base64.StdEncoding.DecodeString(h) // checked by validHashes at authorisation, and equal to it
		sig, err := c.Key.Sign(rand.Reader, d, crypto.SHA256)
		if err != nil {
			fail(w, http.StatusInternalServerError, "server_error", "the key could not sign")
			return
		}
		sigs = append(sigs, base64.StdEncoding.EncodeToString(sig))
	}
	reply(w, map[string]any{"signatures": sigs})
}

func validHashes(hs []string) bool {
	for _, h := range hs {
		d, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(d) != sha256.Size {
			return false
		}
	}
	return true
}

func (s *DevServer) clientOK(id, secret string) bool {
	a := subtle.ConstantTimeCompare([]byte(id), []byte(s.ClientID))
	b := subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret))
	return a&b == 1
}

func (s *DevServer) issueToken(w http.ResponseWriter) {
	t := randomToken()
	s.mu.Lock()
	s.tokens[t] = s.now().Add(time.Hour)
	s.mu.Unlock()
	reply(w, map[string]any{"access_token": t, "token_type": "Bearer", "expires_in": 3600})
}

func (s *DevServer) tokenOK(h string) bool {
	t, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[t]
	return ok && s.now().Before(exp)
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24 panics instead)
	return hex.EncodeToString(b)
}

func reply(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v) // plain maps and strings: cannot fail
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes()) // the client went away: nothing to do
}

func fail(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(cscError{Error: code, Description: desc}) // as in reply
}
