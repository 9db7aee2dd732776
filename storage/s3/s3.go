// Package s3 is the chungthuc.ObjectStore on an S3-compatible server (MinIO, AWS S3 and
// others), through minio-go.
//
// Integrity: Put knows the SHA-256 before it sends a byte. Objects up to Config.PartSize
// go in one streaming PUT carrying the hash as x-amz-checksum-sha256, so the server
// refuses content that does not match it; the client also hashes while sending and aborts
// the request before its end on a mismatch (larger objects, sent in parts, rely on that
// client-side check: the abort happens before the upload is completed). The hex hash is
// stored as the user metadata "X-Amz-Meta-Sha256", which Stat, Get and (on MinIO) List
// return; Get re-hashes while streaming and fails at the end on a mismatch.
//
// Write-once: every PUT carries "If-None-Match: *", so the server refuses to replace an
// existing object, also between concurrent writers; on that refusal Put compares hashes
// and succeeds when the content is the same, ECONFLICT otherwise.
//
// Retention: with Config.RetentionYears > 0 the bucket must have S3 Object Lock (New
// creates it so) and every object gets a retain-until date that many years ahead, in
// COMPLIANCE mode by default (nobody, not even the root account, can delete it early) or
// GOVERNANCE mode (users with s3:BypassGovernanceRetention can).
//
// Versions: Put returns the version ID and ETag the server gave the object (the version ID
// is empty in a bucket without versioning), and Get reads the version asked for, so a
// later PUT over the key — which in a versioned bucket (Object Lock implies versioning)
// makes a new version — or a delete marker does not change what is read. This package never
// deletes an object or a version.
//
// Probe: a write that leaves nothing behind — a multipart upload under "readyz/" with one
// small part, then aborted. It writes to the server's disks like any upload, so a full or
// read-only server fails it, but it never becomes an object: no version, no retention (Object
// Lock rules apply to objects, not to parts), nothing to clean up. A probe interrupted
// before its abort leaves an incomplete upload, which the next probe aborts.
//
// Errors: every network failure, time-out (from the context) or server error is
// EUNAVAILABLE with a message naming the endpoint and bucket — never the secret key.
package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/chungthuc/chungthuc"
)

// Retention modes of S3 Object Lock.
const (
	Compliance = "COMPLIANCE"
	Governance = "GOVERNANCE"
)

const (
	// DefaultPartSize is the PartSize used when Config.PartSize is 0.
	DefaultPartSize = 64 << 20
	minPartSize     = 5 << 20
	maxPartSize     = 5 << 30
	metaSHA256      = "Sha256" // stored as X-Amz-Meta-Sha256
)

// Config says where the objects live. Only Endpoint and Bucket are required.
type Config struct {
	// Endpoint is "host:port", or a URL "http://host:port" / "https://host:port" whose
	// scheme then decides UseSSL.
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string // never logged nor shown in errors
	Region    string
	UseSSL    bool
	// RetentionYears > 0 keeps every object under Object Lock for that many years; the
	// bucket must have Object Lock enabled (New enables it when it creates the bucket).
	RetentionYears int
	// RetentionMode is Compliance (the default when empty) or Governance.
	RetentionMode string
	// PartSize: objects up to this size are sent in one streaming PUT verified by the
	// server; larger ones in parts of this size, each held in memory while sent.
	// 0 means DefaultPartSize; otherwise 5 MiB to 5 GiB.
	PartSize uint64
	// Transport replaces the default HTTP transport (custom CAs, tests). Optional.
	Transport http.RoundTripper
	// MaxRetries is how often minio-go tries a request that failed in a way it deems
	// transient (0: its default, 10; 1: no retry). Probe never retries. Callers bound the
	// whole call with their context.
	MaxRetries int
}

// Store is an ObjectStore on one S3 bucket. It is safe for concurrent use.
type Store struct {
	client    *minio.Client
	probe     minio.Core // a client without retries, for Probe
	bucket    string
	where     string // "http://host:port (bucket "b")" for messages
	partSize  uint64
	years     int
	mode      minio.RetentionMode
	locked    bool // the bucket has Object Lock enabled
	versioned bool // the bucket keeps versions
	now       func() time.Time
}

var _ chungthuc.ObjectStore = (*Store)(nil)

// New connects to the server, creates the bucket if it is missing (with Object Lock when
// RetentionYears > 0) and checks that it can be used. Errors: EINVALID for a bad
// configuration, including RetentionYears > 0 on an existing bucket without Object Lock;
// EUNAVAILABLE when the server cannot be reached in time (bound the wait with ctx),
// rejects the credentials or fails.
func New(ctx context.Context, cfg Config) (*Store, error) {
	endpoint, secure, err := parseEndpoint(cfg.Endpoint, cfg.UseSSL)
	if err != nil {
		return nil, err
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "S3 bucket name %q is not valid: %v", cfg.Bucket, err)
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "S3 access key and secret key must be given together.")
	}
	if cfg.RetentionYears < 0 || cfg.RetentionYears > 100 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "S3 retention of %d years is out of range (0 to 100).", cfg.RetentionYears)
	}
	mode := minio.Compliance
	switch strings.ToUpper(cfg.RetentionMode) {
	case "", Compliance:
	case Governance:
		mode = minio.Governance
	default:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "S3 retention mode %q is neither %s nor %s.", cfg.RetentionMode, Compliance, Governance)
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < minPartSize || partSize > maxPartSize {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "S3 part size %d is out of range (5 MiB to 5 GiB).", cfg.PartSize)
	}

	scheme := "http"
	if secure {
		scheme = "https"
	}
	s := &Store{
		bucket:   cfg.Bucket,
		where:    fmt.Sprintf("%s://%s (bucket %q)", scheme, endpoint, cfg.Bucket),
		partSize: partSize,
		years:    cfg.RetentionYears,
		mode:     mode,
		now:      time.Now,
	}
	opts := &minio.Options{
		Secure:          secure,
		Region:          cfg.Region,
		Transport:       cfg.Transport,
		TrailingHeaders: true, // required by minio-go to send our x-amz-checksum-sha256
	}
	if cfg.AccessKey != "" {
		opts.Creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	}
	opts.MaxRetries = cfg.MaxRetries
	if s.client, err = minio.New(endpoint, opts); err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "S3 endpoint %s: %v", endpoint, err)
	}
	popts := *opts
	popts.MaxRetries = 1
	pc, err := minio.New(endpoint, &popts)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "S3 endpoint %s: %v", endpoint, err)
	}
	s.probe = minio.Core{Client: pc}

	exists, err := s.client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, s.fail("reach", "", err)
	}
	if !exists {
		err := s.client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region, ObjectLocking: cfg.RetentionYears > 0})
		var er minio.ErrorResponse
		if err != nil && !(errors.As(err, &er) && er.Code == "BucketAlreadyOwnedByYou") {
			return nil, s.fail("create the bucket", "", err)
		}
	}
	lock, _, _, _, err := s.client.GetObjectLockConfig(ctx, cfg.Bucket)
	var er minio.ErrorResponse
	switch {
	case err == nil:
		s.locked = lock == "Enabled"
	case errors.As(err, &er) && (er.Code == "ObjectLockConfigurationNotFoundError" || er.StatusCode == http.StatusNotFound):
	default:
		return nil, s.fail("read the Object Lock configuration of", "", err)
	}
	s.versioned = s.locked
	if !s.locked {
		vc, err := s.client.GetBucketVersioning(ctx, cfg.Bucket)
		if err != nil {
			return nil, s.fail("read the versioning configuration of", "", err)
		}
		s.versioned = vc.Enabled()
	}
	if cfg.RetentionYears > 0 && !s.locked {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "Object store %s has no Object Lock, so a retention of %d years cannot be applied: use a new bucket (created with Object Lock) or set the retention to 0.", s.where, cfg.RetentionYears)
	}
	return s, nil
}

// Client returns the underlying minio-go client (for tests and administration).
func (s *Store) Client() *minio.Client { return s.client }

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.bucket }

// Versioned reports whether the bucket keeps versions (it has Object Lock, or versioning
// was enabled on it when New checked).
func (s *Store) Versioned() bool { return s.versioned }

// Put stores size bytes from r under key, refusing content that does not hash to sha256
// (hex, either case). Errors:
//   - EINVALID: a bad key (the rules of storage/fs), a malformed sha256, a negative size,
//     or content shorter or longer than size or hashing otherwise — nothing is stored;
//   - ECONFLICT: key already holds different content;
//   - EUNAVAILABLE: network failure, time-out, server error;
//   - a wrapped error from r when reading it fails.
//
// The existing-key check costs nothing extra: the conditional PUT finds it. The returned
// info carries the version ID (empty without versioning) and ETag the server recorded —
// those of the existing object when the same content was already there.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sha256Hex string) (*chungthuc.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	want, err := checkSHA256(sha256Hex)
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "Object %q: size %d is negative.", key, size)
	}
	hr := newHashingReader(r, key, size, want)
	if size == 0 {
		// minio-go sends an empty body without reading r: check r here.
		if _, err := hr.Read(nil); err != io.EOF {
			return nil, hr.failure(err)
		}
	}
	up, err := s.client.PutObject(ctx, s.bucket, key, hr, size, s.putOptions(key, want, size))
	if err == nil {
		if !hr.done {
			return nil, fmt.Errorf("s3: put %q: the client stopped before the end of the content", key)
		}
		mod := up.LastModified
		if mod.IsZero() { // not in a PUT's answer
			mod = s.now()
		}
		return &chungthuc.ObjectInfo{Key: key, Size: size, SHA256: want, ModTime: mod,
			Version: up.VersionID, ETag: strings.Trim(up.ETag, `"`)}, nil
	}
	if herr := hr.failure(nil); herr != nil {
		return nil, herr
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		switch {
		case er.StatusCode == http.StatusPreconditionFailed || er.Code == "PreconditionFailed":
			return s.existing(ctx, key, want)
		case er.Code == "BadDigest" || er.Code == "XAmzContentChecksumMismatch" || er.Code == "XAmzContentSHA256Mismatch" || er.Code == "InvalidDigest":
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "Object %q: the server found that the content does not hash to SHA-256 %s; nothing stored.", key, want)
		}
	}
	return nil, s.fail("put", key, err)
}

// putOptions are the options of the PUT of an object of this size and hash.
func (s *Store) putOptions(key, sum string, size int64) minio.PutObjectOptions {
	opts := minio.PutObjectOptions{
		UserMetadata: map[string]string{metaSHA256: sum},
		ContentType:  mime.TypeByExtension(path.Ext(key)),
		PartSize:     s.partSize,
	}
	if uint64(size) <= s.partSize {
		// One request, verified by the server against the hash we know.
		raw, _ := hex.DecodeString(sum)
		opts.DisableMultipart = true
		opts.UserMetadata["x-amz-checksum-sha256"] = base64.StdEncoding.EncodeToString(raw)
	}
	opts.SetMatchETagExcept("*") // If-None-Match: * — never replace an object
	if s.years > 0 {
		opts.Mode = s.mode
		opts.RetainUntilDate = s.now().AddDate(s.years, 0, 0)
	}
	return opts
}

// existing decides a refused conditional PUT: the existing object's info when key holds
// content hashing to want, ECONFLICT otherwise. The hash recorded in the object's metadata
// is trusted when there is one (this is the common case of a scan certified twice, and
// reading it back would cost a download per certification); objects written by other tools
// are hashed. Readers that must trust the bytes compare them with their own hash (fsck
// --deep reads scans back and compares them with the hash in their name).
func (s *Store) existing(ctx context.Context, key, want string) (*chungthuc.ObjectInfo, error) {
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, s.fail("stat", key, err)
	}
	got := metaHash(st.UserMetadata)
	if got == "" { // written by something else: hash the content of that version
		obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{VersionID: st.VersionID})
		if err != nil {
			return nil, s.fail("get", key, err)
		}
		defer func() { _ = obj.Close() }() // read only
		h := sha256.New()
		if _, err := io.Copy(h, obj); err != nil {
			return nil, s.fail("get", key, err)
		}
		got = hex.EncodeToString(h.Sum(nil))
	}
	if got != want {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT, "Object %q already exists with different content (SHA-256 %s, not %s); objects are written once.", key, got, want)
	}
	return infoOf(key, st), nil
}

// infoOf is the ObjectInfo of a stat or listing result.
func infoOf(key string, st minio.ObjectInfo) *chungthuc.ObjectInfo {
	sum := metaHash(st.UserMetadata)
	return &chungthuc.ObjectInfo{Key: key, Size: st.Size, SHA256: sum, ModTime: st.LastModified,
		Version: st.VersionID, ETag: strings.Trim(st.ETag, `"`)}
}

// Get streams a version of the object (the current one when version is empty): a later PUT
// over the key or a delete marker does not change what a given version reads. The reader
// hashes what it returns and, at the end, returns an EINTERNAL error ("object … is
// corrupt") instead of io.EOF when the size or the SHA-256 in the object's metadata do not
// match; read errors are EUNAVAILABLE. That check guards against damage in transit only —
// metadata can be forged along with the content — so callers compare with the hash they
// expect. ctx must stay alive while reading. Errors: EINVALID for a bad key, ENOTFOUND
// (also for a version that does not exist or is a delete marker), EUNAVAILABLE.
func (s *Store) Get(ctx context.Context, key, version string) (io.ReadCloser, *chungthuc.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{VersionID: version})
	if err != nil {
		return nil, nil, s.fail("get", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close() // read only
		return nil, nil, s.fail("get", key, err)
	}
	info := infoOf(key, st)
	return &verifyingReader{s: s, obj: obj, key: key, size: st.Size, want: info.SHA256, h: sha256.New()}, info, nil
}

// Stat describes the object: SHA256 is the stored hash ("" for objects not written by
// this package). Errors: EINVALID for a bad key, ENOTFOUND, EUNAVAILABLE.
func (s *Store) Stat(ctx context.Context, key string) (*chungthuc.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, s.fail("stat", key, err)
	}
	if st.IsDeleteMarker {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "Object %q does not exist.", key)
	}
	return infoOf(key, st), nil
}

// List calls fn for every object whose key starts with prefix, in key order. SHA256 is
// filled on MinIO (which returns metadata in listings) and "" on servers that do not;
// use Stat when it matters. An error from fn stops the listing and is returned as is.
// Errors: EINVALID for a bad prefix, EUNAVAILABLE.
func (s *Store) List(ctx context.Context, prefix string, fn func(chungthuc.ObjectInfo) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range s.client.ListObjects(lctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithMetadata: true}) {
		if obj.Err != nil {
			return s.fail("list", prefix, obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") { // a "folder" marker made by other tools
			continue
		}
		sum := metaHash(obj.UserMetadataStripped)
		if sum == "" {
			sum = metaHash(obj.UserMetadata)
		}
		if err := fn(chungthuc.ObjectInfo{Key: obj.Key, Size: obj.Size, SHA256: sum, ModTime: obj.LastModified,
			Version: obj.VersionID, ETag: strings.Trim(obj.ETag, `"`)}); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return s.fail("list", prefix, err)
	}
	return nil
}

// probePrefix is where Probe starts its uploads; no object is ever completed there.
const probePrefix = "readyz/"

// Probe checks that the server accepts writes now, leaving nothing behind: it starts a
// multipart upload under "readyz/", uploads one small part (written to the server's disks
// like any upload, so a full or read-only server refuses it) and aborts the upload. No
// object, version or retention results. Incomplete probe uploads left by an interrupted
// Probe are aborted first. Nothing is retried: bound the call with ctx. Errors:
// EUNAVAILABLE (unreachable, refused, time-out, the server cannot write).
func (s *Store) Probe(ctx context.Context) error {
	key := probePrefix + "probe"
	// Leftovers of interrupted probes (rare): abort them so they do not accumulate.
	if res, err := s.probe.ListMultipartUploads(ctx, s.bucket, probePrefix, "", "", "", 10); err == nil {
		for _, u := range res.Uploads {
			if time.Since(u.Initiated) > time.Minute {
				// Best effort: a leftover that cannot be aborted now is tried again next time.
				_ = s.probe.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID)
			}
		}
	} else {
		return s.fail("list probe uploads in", "", err)
	}
	id, err := s.probe.NewMultipartUpload(ctx, s.bucket, key, minio.PutObjectOptions{})
	if err != nil {
		return s.fail("start a probe upload", key, err)
	}
	// The probe's upload is never completed; a failed abort is cleaned up by the next probe.
	defer func() { _ = s.probe.AbortMultipartUpload(context.WithoutCancel(ctx), s.bucket, key, id) }()
	part := []byte("chungthuc readiness probe\n")
	md5sum := md5.Sum(part)
	sha := sha256.Sum256(part)
	if _, err := s.probe.PutObjectPart(ctx, s.bucket, key, id, 1, bytes.NewReader(part), int64(len(part)),
		minio.PutObjectPartOptions{Md5Base64: base64.StdEncoding.EncodeToString(md5sum[:]), Sha256Hex: hex.EncodeToString(sha[:])}); err != nil {
		return s.fail("write a probe part", key, err)
	}
	if err := s.probe.AbortMultipartUpload(ctx, s.bucket, key, id); err != nil {
		return s.fail("abort the probe upload", key, err)
	}
	return nil
}

// fail turns a minio-go error into a domain error naming the endpoint and bucket.
func (s *Store) fail(op, key string, err error) error {
	what := ""
	if key != "" {
		what = fmt.Sprintf(" %q", key)
	}
	if errors.Is(err, context.Canceled) {
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "Object store %s: %s%s was canceled", s.where, op, what)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "Object store %s did not answer in time (%s%s)", s.where, op, what)
	}
	var er minio.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode == 0 {
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "Object store %s is unreachable (%s%s)", s.where, op, what)
	}
	switch er.Code {
	case "NoSuchKey", "NoSuchVersion", "XMinioObjectExistsAsDirectory", "XMinioParentIsObject":
		return chungthuc.Errorf(chungthuc.ENOTFOUND, "Object %q does not exist.", key)
	case "NoSuchBucket":
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "Object store %s: the bucket does not exist.", s.where)
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken":
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "Object store %s refused to %s%s: %s (%s); check the access key, secret key and policy.", s.where, op, what, er.Code, er.Message)
	}
	// A version that is a delete marker answers 405 to GET and HEAD: nothing to read there.
	if (er.StatusCode == http.StatusNotFound || er.Code == "MethodNotAllowed") && key != "" && (op == "stat" || op == "get") {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, "Object %q does not exist.", key)
	}
	if er.StatusCode >= 500 {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "Object store %s failed to %s%s: %s: %s", s.where, op, what, er.Code, er.Message)
	}
	return fmt.Errorf("s3: %s%s in %s: %w", op, what, s.where, err)
}

// parseEndpoint accepts "host:port" or an http(s) URL and returns host:port and whether
// to use TLS.
func parseEndpoint(ep string, useSSL bool) (string, bool, error) {
	if ep == "" {
		return "", false, chungthuc.Errorf(chungthuc.EINVALID, "S3 endpoint is not set.")
	}
	if !strings.Contains(ep, "://") {
		if strings.ContainsAny(ep, "/?#@") {
			return "", false, chungthuc.Errorf(chungthuc.EINVALID, "S3 endpoint %q must be host:port or an http(s) URL without a path.", ep)
		}
		return ep, useSSL, nil
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return "", false, chungthuc.Errorf(chungthuc.EINVALID, "S3 endpoint %q must be host:port or an http(s) URL without a path.", ep)
	}
	return u.Host, u.Scheme == "https", nil
}

func metaHash(m map[string]string) string {
	for k, v := range m {
		if strings.EqualFold(k, metaSHA256) || strings.EqualFold(k, "X-Amz-Meta-"+metaSHA256) {
			if sum, err := checkSHA256(v); err == nil {
				return sum
			}
		}
	}
	return ""
}

// hashingReader hands minio-go exactly size bytes of r while hashing them, and fails the
// read that completes them — so before the request or upload is completed — when r has
// more bytes, fewer, or content that does not hash to want.
type hashingReader struct {
	r       io.Reader
	key     string
	size, n int64
	want    string
	h       hash.Hash
	invalid error // content problem (EINVALID)
	readErr error // r failed
	done    bool  // all bytes read and verified
}

func newHashingReader(r io.Reader, key string, size int64, want string) *hashingReader {
	return &hashingReader{r: r, key: key, size: size, want: want, h: sha256.New()}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	if h.invalid != nil {
		return 0, h.invalid
	}
	if h.readErr != nil {
		return 0, h.readErr
	}
	if h.done {
		return 0, io.EOF
	}
	if rem := h.size - h.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	var n int
	var err error
	if len(p) > 0 {
		n, err = h.r.Read(p)
		h.h.Write(p[:n])
		h.n += int64(n)
	}
	if h.n < h.size {
		switch {
		case err == io.EOF:
			h.invalid = chungthuc.Errorf(chungthuc.EINVALID, "Object %q: content has %d bytes, not the declared %d; nothing stored.", h.key, h.n, h.size)
			return n, h.invalid
		case err != nil:
			h.readErr = err
		}
		return n, err
	}
	// All declared bytes are read: the content must end here and match the hash. On a
	// problem the last bytes are withheld (0 is returned with the error): minio-go drops
	// an error returned along with the bytes that fill its buffer, and with them the
	// upload would be complete.
	var one [1]byte
	for range 100 {
		m, perr := h.r.Read(one[:])
		if m > 0 {
			h.invalid = chungthuc.Errorf(chungthuc.EINVALID, "Object %q: content is longer than the declared %d bytes; nothing stored.", h.key, h.size)
			return 0, h.invalid
		}
		if perr == io.EOF {
			break
		}
		if perr != nil {
			h.readErr = perr
			return 0, perr
		}
	}
	if got := hex.EncodeToString(h.h.Sum(nil)); got != h.want {
		h.invalid = chungthuc.Errorf(chungthuc.EINVALID, "Object %q: content hashes to SHA-256 %s, not %s; nothing stored.", h.key, got, h.want)
		return 0, h.invalid
	}
	h.done = true
	return n, io.EOF
}

// failure returns the content or reader problem seen, if any; err is what the last
// direct Read returned.
func (h *hashingReader) failure(err error) error {
	switch {
	case h.invalid != nil:
		return h.invalid
	case h.readErr != nil:
		return fmt.Errorf("s3: put %q: reading content: %w", h.key, h.readErr)
	}
	return err
}

// verifyingReader streams an object and checks its size and hash at the end.
type verifyingReader struct {
	s    *Store
	obj  *minio.Object
	key  string
	size int64
	want string
	h    hash.Hash
	n    int64
	err  error
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.obj.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case err == io.EOF:
		got := hex.EncodeToString(v.h.Sum(nil))
		if v.n != v.size || (v.want != "" && got != v.want) {
			err = chungthuc.Errorf(chungthuc.EINTERNAL, "Object %q in %s is corrupt: read %d bytes hashing to SHA-256 %s, stored as %d bytes with SHA-256 %s.", v.key, v.s.where, v.n, got, v.size, v.want)
		}
	case err != nil:
		err = v.s.fail("read", v.key, err)
	}
	v.err = err
	return n, err
}

func (v *verifyingReader) Close() error { return v.obj.Close() }
