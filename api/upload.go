package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// upload is a multipart request read to the end: its fields and its files, spooled to
// temporary files as they stream in (never whole in memory while reading).
type upload struct {
	fields map[string]string
	files  []spooled
}

type spooled struct {
	name string
	path string
	size int64
}

func (u *upload) cleanup() {
	for _, f := range u.files {
		os.Remove(f.path)
	}
}

// scans reads the spooled files (their total is bounded by the request limit).
func (u *upload) scans() ([]chungthuc.Scan, error) {
	out := make([]chungthuc.Scan, 0, len(u.files))
	for _, f := range u.files {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		out = append(out, chungthuc.Scan{Name: f.name, Data: b})
	}
	return out, nil
}

// Magic numbers of the accepted upload types.
var magics = map[string][][]byte{
	"scan": {{0xFF, 0xD8, 0xFF}, {0x89, 'P', 'N', 'G'}, []byte("%PDF-")},
	"pdf":  {[]byte("%PDF-")},
}

// readUpload streams a multipart/form-data request: files of the field fileField go to
// temporary files (checked by content against kind: "scan" or "pdf"); other fields are kept
// (at most 64 KiB each). The whole body may be at most limit bytes. Errors: EUNSUPPORTED
// (not multipart, or a file of another type), ETOOLARGE, EINVALID.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request, fileField, kind string, limit int64) (*upload, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, bi(chungthuc.EUNSUPPORTED, "Yêu cầu phải là biểu mẫu tải tệp (multipart/form-data).", "The request must be a file upload form (multipart/form-data).")
	}
	if r.ContentLength > limit {
		return nil, tooLarge(r.ContentLength, limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, bi(chungthuc.EINVALID, "Tệp tải lên bị lỗi hoặc không đầy đủ.", "The upload is malformed or incomplete.")
	}
	u := &upload{fields: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			u.cleanup()
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, uploadErr(err, limit)
		}
		name := part.FormName()
		if part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, 64<<10+1))
			if err != nil {
				return nil, uploadErr(err, limit)
			}
			if len(b) > 64<<10 {
				return nil, bi(chungthuc.ETOOLARGE, fmt.Sprintf("Ô “%s” quá dài (tối đa 64 KB).", name), fmt.Sprintf("The field “%s” is too long (at most 64 KB).", name))
			}
			u.fields[name] = string(b)
			continue
		}
		if name != fileField {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, uploadErr(err, limit)
			}
			continue
		}
		f, err := os.CreateTemp("", "chungthuc-upload-*")
		if err != nil {
			return nil, err
		}
		sp := spooled{name: filepath.Base(part.FileName()), path: f.Name()}
		u.files = append(u.files, sp)
		n, err := io.Copy(f, part)
		if cerr := f.Close(); err == nil && cerr != nil {
			return nil, cerr
		}
		if err != nil {
			return nil, uploadErr(err, limit)
		}
		u.files[len(u.files)-1].size = n
		if err := checkMagic(sp.path, sp.name, kind); err != nil {
			return nil, err
		}
	}
	ok = true
	return u, nil
}

func uploadErr(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(0, limit)
	}
	return bi(chungthuc.EINVALID, "Việc tải tệp lên bị gián đoạn hoặc tệp bị lỗi; hãy gửi lại.", "The upload was interrupted or malformed; send it again.")
}

func checkMagic(path, name, kind string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read only
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	for _, m := range magics[kind] {
		if bytes.HasPrefix(head, m) {
			return nil
		}
	}
	what := "JPEG, PNG hoặc PDF"
	whatEN := "JPEG, PNG or PDF"
	if kind == "pdf" {
		what, whatEN = "PDF", "PDF"
	}
	if n == 0 {
		return bi(chungthuc.EINVALID, fmt.Sprintf("Tệp “%s” rỗng.", name), fmt.Sprintf("The file “%s” is empty.", name))
	}
	return bi(chungthuc.EUNSUPPORTED, fmt.Sprintf("Tệp “%s” không phải tệp %s.", name, what), fmt.Sprintf("The file “%s” is not a %s file.", name, whatEN))
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// tooLarge says an upload of size bytes (0: unknown) is above limit, in megabytes.
func tooLarge(size, limit int64) error {
	lim := formatMB(limit)
	if size > 0 {
		return bi(chungthuc.ETOOLARGE, fmt.Sprintf("Tệp tải lên nặng %s, vượt giới hạn %s.", formatMB(size), lim),
			fmt.Sprintf("The upload is %s; the limit is %s.", formatMB(size), lim))
	}
	return bi(chungthuc.ETOOLARGE, fmt.Sprintf("Tệp tải lên vượt giới hạn %s.", lim), fmt.Sprintf("The upload is larger than the limit of %s.", lim))
}

// formatMB writes a size in megabytes with one decimal ("57,2 MB"; whole numbers bare).
func formatMB(n int64) string {
	mb := float64(n) / (1 << 20)
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return strings.Replace(fmt.Sprintf("%.1f MB", mb), ".", ",", 1)
}
