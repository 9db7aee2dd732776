package main

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/api"
	"github.com/chungthuc/chungthuc/csc"
	"github.com/chungthuc/chungthuc/deadline"
	"github.com/chungthuc/chungthuc/notify"
)

// Config is the whole configuration, read from the environment once at start-up. Every
// secret can also be given as NAME_FILE (a path whose contents are the value), so secrets
// need not sit in the environment.
type Config struct {
	DataDir string // CHUNGTHUC_DATA, default ./chungthuc-data: the embedded register, objects, dev PKI
	BaseURL string // CHUNGTHUC_BASE_URL, default http://127.0.0.1:8080
	Addr    string // CHUNGTHUC_ADDR, default 127.0.0.1:8080

	DatabaseURL string // CHUNGTHUC_DATABASE_URL: PostgreSQL; empty = embedded SQLite
	// MigrateDatabaseURL is the URL `migrate` uses (CHUNGTHUC_MIGRATE_DATABASE_URL): the
	// schema owner's. When it names another role than DatabaseURL, migrate grants that role
	// what serve needs and nothing more (storage/postgres GrantServing). Empty = DatabaseURL.
	MigrateDatabaseURL string

	S3Endpoint       string // CHUNGTHUC_S3_ENDPOINT: S3; empty = the local folder
	S3Bucket         string // CHUNGTHUC_S3_BUCKET, default "chungthuc"
	S3AccessKey      string // CHUNGTHUC_S3_ACCESS_KEY
	S3SecretKey      string // CHUNGTHUC_S3_SECRET_KEY
	S3Region         string // CHUNGTHUC_S3_REGION
	S3UseSSL         bool   // CHUNGTHUC_S3_USE_SSL, default true
	S3RetentionYears int    // CHUNGTHUC_S3_RETENTION_YEARS, default 0 (no Object Lock)

	RateLimit int // CHUNGTHUC_RATE_LIMIT: public requests per minute per client address (default 60)

	// Webhook delivery inside serve (notify.Worker).
	WebhookLease         time.Duration // CHUNGTHUC_WEBHOOK_LEASE, default 2m: a claimed delivery's lease
	WebhookAllowLoopback bool          // CHUNGTHUC_WEBHOOK_ALLOW_LOOPBACK: receivers on loopback allowed (tests, same host)

	// E-mail to citizens (notify.MailWorker inside serve). SMTPURL (CHUNGTHUC_SMTP_URL, or
	// _FILE since it may carry a password): smtp://[user:pass@]host[:port] or smtps://…;
	// empty = no e-mail (certify refuses an address). SMTPFrom (CHUNGTHUC_SMTP_FROM) is the
	// sender, "Name <addr>" allowed, unless the URL has ?from=. Mailer is built from both.
	SMTPURL, SMTPFrom string
	Mailer            *notify.Mailer
	// MailAccessCode (CHUNGTHUC_MAIL_ACCESS_CODE, default true) puts the access code in the
	// e-mail; false sends the link only and says the code is on the receipt.
	MailAccessCode bool
	MailRetry      time.Duration // CHUNGTHUC_MAIL_RETRY, default 30s: first retry delay, doubling to 1h

	// MetricsAddr (CHUNGTHUC_METRICS_ADDR), when set, is a second listen address that serves
	// /metrics alone; the service's own listener then does not serve it. Empty: /metrics on
	// CHUNGTHUC_ADDR.
	MetricsAddr string

	// TrustedProxies (CHUNGTHUC_TRUSTED_PROXIES, comma-separated CIDRs; default none): peers
	// whose X-Forwarded-For / Forwarded headers name the client (api.ParseTrustedProxies).
	TrustedProxies []netip.Prefix

	// RequireTOTPForAdmin (CHUNGTHUC_REQUIRE_TOTP_FOR_ADMIN, default false): a system
	// administrator without a second factor can only enrol one after logging in.
	RequireTOTPForAdmin bool

	// MaxConcurrentVerify and MaxConcurrentCertify (CHUNGTHUC_MAX_CONCURRENT_VERIFY,
	// _CERTIFY) bound the verifications and certifications running at once; 0 = the
	// number of CPUs, at least 2 (api.Deps).
	MaxConcurrentVerify, MaxConcurrentCertify int

	// The object store's time limits (storage/guard).
	StoreTimeout      time.Duration // CHUNGTHUC_STORE_TIMEOUT, default 30s: a copy's write or read
	StoreProbeTimeout time.Duration // CHUNGTHUC_STORE_PROBE_TIMEOUT, default 1s: probes and stats

	// Repair and checks inside serve (certify.Check).
	RepairGrace    time.Duration // CHUNGTHUC_REPAIR_GRACE, default 15m: Pending entries older than this are voided
	RepairInterval time.Duration // CHUNGTHUC_REPAIR_INTERVAL, default 1m: how often serve repairs and samples
	CheckSample    int           // CHUNGTHUC_CHECK_SAMPLE, default 20: stored copies read back per interval (0: none)
	// ExternalSigningTimeout is how long an entry signed outside the service waits for each
	// signature (the officer's, then the seal) before the check loop voids it.
	ExternalSigningTimeout time.Duration // CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT, default 24h
	// RemoteSigners are the remote-signing (CSC) credentials per officer and unit seal, read
	// from the file named by CHUNGTHUC_CSC_CONFIG (csc.LoadSigners; nil when unset).
	RemoteSigners *csc.Signers
	// AgentURL is the local signing agent's loopback base URL the signing page calls
	// (CHUNGTHUC_AGENT_URL, default http://127.0.0.1:8790; "off": not offered).
	AgentURL string

	KeyAlgorithm string // CHUNGTHUC_KEY_ALGORITHM for the dev PKI: ecdsa-p256 (default) or rsa-3072

	// Keys, trusted time and long-term validation (keys.go).
	KeysFile    string               // CHUNGTHUC_KEYS_FILE: key configuration (certs.ReadKeyConfig); empty = the dev PKI; set = no dev PKI unless its "fallback" is "dev"
	TSAURL      string               // CHUNGTHUC_TSA_URL: RFC 3161 TSA; empty = the dev TSA when the dev PKI is used
	TSAUsername string               // CHUNGTHUC_TSA_USERNAME
	TSAPassword string               // CHUNGTHUC_TSA_PASSWORD (or _FILE)
	PAdESLevel  chungthuc.PAdESLevel // CHUNGTHUC_PADES_LEVEL: B-B, B-T, B-LT, B-LTA; empty = B-LTA with a TSA, else B-B
	// ScanQualityGate: CHUNGTHUC_SCAN_QUALITY_GATE (on, the default, or off): refuse scans
	// below 150 dpi at their page size and ask the officer to confirm below 200 dpi.
	ScanQualityGate bool
	TrustAnchors    string // CHUNGTHUC_TRUST_ANCHORS: PEM bundle or directory of roots trusted for verification, renewal and revocation fetching

	// LogKey is the private signed-note key of the public transparency log
	// (CHUNGTHUC_LOG_KEY, usually CHUNGTHUC_LOG_KEY_FILE): never in the database. Empty:
	// the development PKI's (made on first use in DataDir/pki/log.key); refused with
	// production keys (CHUNGTHUC_KEYS_FILE). See translog.go.
	LogKey string

	// Calendar is the working-day calendar of the one-stop deadline (Decree 23/2015 art. 21):
	// the file named by CHUNGTHUC_HOLIDAYS_FILE (deadline.Parse's format; it replaces the
	// embedded table whole), else the embedded 2025–2030 table. A bad file stops start-up
	// with its line number.
	Calendar *deadline.Calendar

	getenv func(string) string // for the PIN/password variables a key configuration names
}

// LoadConfig reads the configuration from getenv and validates it.
func LoadConfig(getenv func(string) string) (*Config, error) {
	var errs []string
	get := func(name, def string) string {
		v := getenv(name)
		if f := getenv(name + "_FILE"); f != "" {
			if v != "" {
				errs = append(errs, fmt.Sprintf("both %s and %s_FILE are set", name, name))
			}
			b, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s_FILE: cannot read %s", name, f))
			}
			v = strings.TrimSpace(string(b))
		}
		if v == "" {
			return def
		}
		return v
	}
	c := &Config{
		DataDir:            get("CHUNGTHUC_DATA", "chungthuc-data"),
		BaseURL:            strings.TrimRight(get("CHUNGTHUC_BASE_URL", "http://127.0.0.1:8080"), "/"),
		Addr:               get("CHUNGTHUC_ADDR", "127.0.0.1:8080"),
		DatabaseURL:        get("CHUNGTHUC_DATABASE_URL", ""),
		MigrateDatabaseURL: get("CHUNGTHUC_MIGRATE_DATABASE_URL", ""),
		S3Endpoint:         get("CHUNGTHUC_S3_ENDPOINT", ""),
		S3Bucket:           get("CHUNGTHUC_S3_BUCKET", "chungthuc"),
		S3AccessKey:        get("CHUNGTHUC_S3_ACCESS_KEY", ""),
		S3SecretKey:        get("CHUNGTHUC_S3_SECRET_KEY", ""),
		S3Region:           get("CHUNGTHUC_S3_REGION", ""),
		KeyAlgorithm:       get("CHUNGTHUC_KEY_ALGORITHM", "ecdsa-p256"),
		KeysFile:           get("CHUNGTHUC_KEYS_FILE", ""),
		TSAURL:             get("CHUNGTHUC_TSA_URL", ""),
		TSAUsername:        get("CHUNGTHUC_TSA_USERNAME", ""),
		TSAPassword:        get("CHUNGTHUC_TSA_PASSWORD", ""),
		PAdESLevel:         chungthuc.PAdESLevel(strings.ToUpper(get("CHUNGTHUC_PADES_LEVEL", ""))),
		TrustAnchors:       get("CHUNGTHUC_TRUST_ANCHORS", ""),
		ScanQualityGate:    true,
		MetricsAddr:        get("CHUNGTHUC_METRICS_ADDR", ""),
		LogKey:             get("CHUNGTHUC_LOG_KEY", ""),
		SMTPURL:            get("CHUNGTHUC_SMTP_URL", ""),
		SMTPFrom:           get("CHUNGTHUC_SMTP_FROM", ""),
		getenv:             getenv,
	}
	switch strings.ToLower(get("CHUNGTHUC_SCAN_QUALITY_GATE", "on")) {
	case "on", "1", "true", "yes":
	case "off", "0", "false", "no":
		c.ScanQualityGate = false
	default:
		errs = append(errs, "CHUNGTHUC_SCAN_QUALITY_GATE must be on or off")
	}
	errs = append(errs, c.checkLTV()...)
	var err error
	if c.S3UseSSL, err = strconv.ParseBool(get("CHUNGTHUC_S3_USE_SSL", "true")); err != nil {
		errs = append(errs, "CHUNGTHUC_S3_USE_SSL must be true or false")
	}
	if c.S3RetentionYears, err = strconv.Atoi(get("CHUNGTHUC_S3_RETENTION_YEARS", "0")); err != nil || c.S3RetentionYears < 0 {
		errs = append(errs, "CHUNGTHUC_S3_RETENTION_YEARS must be a whole number ≥ 0")
	}
	if c.RateLimit, err = strconv.Atoi(get("CHUNGTHUC_RATE_LIMIT", "60")); err != nil || c.RateLimit < 1 {
		errs = append(errs, "CHUNGTHUC_RATE_LIMIT must be a whole number ≥ 1")
	}
	if c.MaxConcurrentVerify, err = strconv.Atoi(get("CHUNGTHUC_MAX_CONCURRENT_VERIFY", "0")); err != nil || c.MaxConcurrentVerify < 0 {
		errs = append(errs, "CHUNGTHUC_MAX_CONCURRENT_VERIFY must be a whole number ≥ 0")
	}
	if c.MaxConcurrentCertify, err = strconv.Atoi(get("CHUNGTHUC_MAX_CONCURRENT_CERTIFY", "0")); err != nil || c.MaxConcurrentCertify < 0 {
		errs = append(errs, "CHUNGTHUC_MAX_CONCURRENT_CERTIFY must be a whole number ≥ 0")
	}
	duration := func(name, def string, min time.Duration) time.Duration {
		d, err := time.ParseDuration(get(name, def))
		if err != nil || d < min {
			errs = append(errs, fmt.Sprintf("%s must be a duration of at least %s (e.g. %s)", name, min, def))
		}
		return d
	}
	c.StoreTimeout = duration("CHUNGTHUC_STORE_TIMEOUT", "30s", 100*time.Millisecond)
	c.StoreProbeTimeout = duration("CHUNGTHUC_STORE_PROBE_TIMEOUT", "1s", 10*time.Millisecond)
	c.RepairGrace = duration("CHUNGTHUC_REPAIR_GRACE", "15m", time.Second)
	c.WebhookLease = duration("CHUNGTHUC_WEBHOOK_LEASE", "2m", time.Second)
	if c.WebhookAllowLoopback, err = strconv.ParseBool(get("CHUNGTHUC_WEBHOOK_ALLOW_LOOPBACK", "false")); err != nil {
		errs = append(errs, "CHUNGTHUC_WEBHOOK_ALLOW_LOOPBACK must be true or false")
	}
	c.MailRetry = duration("CHUNGTHUC_MAIL_RETRY", "30s", 100*time.Millisecond)
	if c.MailAccessCode, err = strconv.ParseBool(get("CHUNGTHUC_MAIL_ACCESS_CODE", "true")); err != nil {
		errs = append(errs, "CHUNGTHUC_MAIL_ACCESS_CODE must be true or false")
	}
	if c.SMTPURL != "" {
		if c.Mailer, err = mailer(c.SMTPURL, c.SMTPFrom); err != nil {
			errs = append(errs, err.Error())
		}
	} else if c.SMTPFrom != "" {
		errs = append(errs, "CHUNGTHUC_SMTP_FROM is set but CHUNGTHUC_SMTP_URL is not")
	}
	c.RepairInterval = duration("CHUNGTHUC_REPAIR_INTERVAL", "1m", 100*time.Millisecond)
	c.ExternalSigningTimeout = duration("CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT", "24h", 100*time.Millisecond)
	// Not get(): the file holds no secret itself (each client secret is read from its own
	// file or variable), and its _FILE variant would read the JSON as a path.
	if f := getenv("CHUNGTHUC_CSC_CONFIG"); f != "" {
		if c.RemoteSigners, err = csc.LoadSigners(f, getenv); err != nil {
			errs = append(errs, "CHUNGTHUC_CSC_CONFIG: "+chungthuc.ErrorMessage(err))
		}
	}
	if c.AgentURL, err = agentURL(get("CHUNGTHUC_AGENT_URL", "http://127.0.0.1:8790")); err != nil {
		errs = append(errs, "CHUNGTHUC_AGENT_URL: "+err.Error())
	}
	if c.CheckSample, err = strconv.Atoi(get("CHUNGTHUC_CHECK_SAMPLE", "20")); err != nil || c.CheckSample < 0 || c.CheckSample > 1000 {
		errs = append(errs, "CHUNGTHUC_CHECK_SAMPLE must be a whole number from 0 to 1000")
	}
	if c.RequireTOTPForAdmin, err = strconv.ParseBool(get("CHUNGTHUC_REQUIRE_TOTP_FOR_ADMIN", "false")); err != nil {
		errs = append(errs, "CHUNGTHUC_REQUIRE_TOTP_FOR_ADMIN must be true or false")
	}
	if c.TrustedProxies, err = api.ParseTrustedProxies(get("CHUNGTHUC_TRUSTED_PROXIES", "")); err != nil {
		errs = append(errs, "CHUNGTHUC_TRUSTED_PROXIES: "+err.Error())
	}
	if c.MigrateDatabaseURL != "" && c.DatabaseURL == "" {
		errs = append(errs, "CHUNGTHUC_MIGRATE_DATABASE_URL is set but CHUNGTHUC_DATABASE_URL is not")
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		errs = append(errs, "CHUNGTHUC_S3_ENDPOINT is set but CHUNGTHUC_S3_ACCESS_KEY or CHUNGTHUC_S3_SECRET_KEY is missing")
	}
	if c.KeyAlgorithm != "ecdsa-p256" && c.KeyAlgorithm != "rsa-3072" {
		errs = append(errs, "CHUNGTHUC_KEY_ALGORITHM must be ecdsa-p256 or rsa-3072")
	}
	if !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		errs = append(errs, "CHUNGTHUC_BASE_URL must start with http:// or https://")
	}
	// Not get(): its NAME_FILE convention would read the table as the value of
	// CHUNGTHUC_HOLIDAYS.
	if c.Calendar, err = deadline.Load(getenv("CHUNGTHUC_HOLIDAYS_FILE")); err != nil {
		errs = append(errs, "CHUNGTHUC_HOLIDAYS_FILE: "+err.Error())
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	c.DataDir, _ = filepath.Abs(c.DataDir)
	return c, nil
}

// mailer builds the SMTP client from CHUNGTHUC_SMTP_URL and CHUNGTHUC_SMTP_FROM (the
// sender goes in one of the two). Errors never contain the URL's password.
func mailer(raw, from string) (*notify.Mailer, error) {
	if from != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, errors.New("CHUNGTHUC_SMTP_URL is not a URL")
		}
		q := u.Query()
		if q.Get("from") != "" {
			return nil, errors.New("the sender is given twice: CHUNGTHUC_SMTP_FROM and ?from= in CHUNGTHUC_SMTP_URL")
		}
		q.Set("from", from)
		u.RawQuery = q.Encode()
		raw = u.String()
	}
	m, err := notify.ParseSMTPURL(raw)
	if err != nil && from != "" {
		return nil, fmt.Errorf("%v (CHUNGTHUC_SMTP_FROM %q)", err, from)
	}
	return m, err
}

// env reads the variables a key configuration names for PINs and passwords.
func (c *Config) env(name string) string {
	if c.getenv == nil {
		return ""
	}
	return c.getenv(name)
}

// Embedded reports whether the register is the embedded SQLite one.
func (c *Config) Embedded() bool { return c.DatabaseURL == "" }

// checkLTV validates the key, TSA and PAdES settings (what can be checked without opening
// anything; keys.go checks the rest at start-up).
func (c *Config) checkLTV() []string {
	var errs []string
	switch c.PAdESLevel {
	case "", chungthuc.PAdESB, chungthuc.PAdEST, chungthuc.PAdESLT, chungthuc.PAdESLTA:
	default:
		errs = append(errs, "CHUNGTHUC_PADES_LEVEL must be B-B, B-T, B-LT or B-LTA")
	}
	if c.TSAURL != "" {
		u, err := url.Parse(c.TSAURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, "CHUNGTHUC_TSA_URL must be an http(s) URL")
		} else if u.User != nil {
			errs = append(errs, "CHUNGTHUC_TSA_URL must not carry credentials; use CHUNGTHUC_TSA_USERNAME and CHUNGTHUC_TSA_PASSWORD(_FILE)")
		} else if u.Scheme != "https" && (c.TSAUsername != "" || c.TSAPassword != "") {
			// Basic authentication over plain http hands the password to anyone on the path.
			errs = append(errs, "CHUNGTHUC_TSA_USERNAME/PASSWORD are sent only over https: CHUNGTHUC_TSA_URL must be an https URL")
		}
	}
	if (c.TSAUsername != "" || c.TSAPassword != "") && c.TSAURL == "" {
		errs = append(errs, "CHUNGTHUC_TSA_USERNAME/PASSWORD are set but CHUNGTHUC_TSA_URL is not")
	}
	if c.TSAPassword != "" && c.TSAUsername == "" {
		errs = append(errs, "CHUNGTHUC_TSA_PASSWORD is set but CHUNGTHUC_TSA_USERNAME is not")
	}
	return errs
}

// agentURL checks the local signing agent's address: "off", or http(s) on a loopback host
// with a port and nothing else — the browser of the officer reaches it on their own PC.
func agentURL(v string) (string, error) {
	if v == "off" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Port() == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("must be http://127.0.0.1:PORT (the local signing agent) or off")
	}
	if h := u.Hostname(); h != "localhost" {
		if ip, err := netip.ParseAddr(h); err != nil || !ip.IsLoopback() {
			return "", fmt.Errorf("must name a loopback address (127.0.0.1, [::1] or localhost)")
		}
	}
	return u.Scheme + "://" + u.Host, nil
}
