package api

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// maxFieldBytes bounds one text field of a form.
const maxFieldBytes = 4 << 10

// upload is a parsed multipart request: its text fields and its files, each streamed to a
// temporary file (never held whole in memory while the request is read).
type upload struct {
	fields map[string]string
	files  []*tempFile
}

// tempFile is one uploaded file on disk.
type tempFile struct {
	Name string // the client's file name (base name only)
	Type string // sniffed: image/jpeg, image/png or application/pdf
	Size int64
	f    *os.File
}

// Close removes every temporary file.
func (u *upload) Close() {
	for _, f := range u.files {
		f.f.Close()
		os.Remove(f.f.Name())
	}
}

func (u *upload) field(name string) string {
	return strings.TrimSpace(norm.NFC.String(u.fields[name]))
}

// sniff returns the accepted type of a file from its first bytes, "" when not accepted.
func sniff(head []byte, accept []string) string {
	t := http.DetectContentType(head)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	for _, a := range accept {
		if t == a {
			return t
		}
	}
	return ""
}

var errNotMultipart = chungthuc.Errorf(chungthuc.EUNSUPPORTED, "The request must be multipart/form-data with the files in fields named \"file\".")

// readUpload streams a multipart request: file parts named fileField go to temporary files
// (at most maxFiles, of the accepted types), other parts are text fields of at most 4 KiB.
// The whole request is bounded by the server's upload limit. Errors: ETOOLARGE (413),
// EUNSUPPORTED (415) for another content type or a file of a type not accepted, EINVALID.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, fileField string, maxFiles int, accept []string) (*upload, error) {
	if r.ContentLength > s.maxUpload {
		return nil, tooLarge(s.maxUpload)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, errNotMultipart
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.maxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errNotMultipart
	}
	u := &upload{fields: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			u.Close()
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, uploadErr(err, s.maxUpload)
		}
		name := part.FormName()
		if part.FileName() == "" && name != fileField {
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
			if err != nil {
				return nil, uploadErr(err, s.maxUpload)
			}
			if len(b) > maxFieldBytes || !utf8.Valid(b) {
				return nil, chungthuc.Errorf(chungthuc.EINVALID, "The field %q is too long or not valid text.", name)
			}
			u.fields[name] = string(b)
			continue
		}
		if name != fileField {
			part.Close()
			continue
		}
		if len(u.files) >= maxFiles {
			return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "At most %d files can be uploaded at once.", maxFiles)
		}
		tf, err := s.saveFile(part, accept)
		if err != nil {
			return nil, err
		}
		if tf == nil {
			continue // an empty file input
		}
		u.files = append(u.files, tf)
	}
	ok = true
	return u, nil
}

func (s *Server) saveFile(part *multipart.Part, accept []string) (*tempFile, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(part, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, uploadErr(err, s.maxUpload)
	}
	head = head[:n]
	if n == 0 {
		return nil, nil
	}
	typ := sniff(head, accept)
	name := filepath.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
	if typ == "" {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "%q is not a file type accepted here (%s).", name, strings.Join(accept, ", "))
	}
	f, err := os.CreateTemp(s.tempDir, "chungthuc-upload-*")
	if err != nil {
		return nil, err
	}
	size, err := io.Copy(f, io.MultiReader(bytesReader(head), part))
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, uploadErr(err, s.maxUpload)
	}
	return &tempFile{Name: name, Type: typ, Size: size, f: f}, nil
}

func uploadErr(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit)
	}
	return chungthuc.Errorf(chungthuc.EINVALID, "The upload could not be read: it was interrupted or is malformed.")
}

func tooLarge(limit int64) error {
	return chungthuc.Errorf(chungthuc.ETOOLARGE, "The upload is too large: at most %d MB per request.", limit>>20)
}

// readAll reads a temporary file back (after the limits were checked).
func (t *tempFile) readAll() ([]byte, error) {
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b := make([]byte, t.Size)
	_, err := io.ReadFull(t.f, b)
	return b, err
}
