package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/chungthuc/chungthuc"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// jsonOrForm reads one string field from a small JSON object body or a form.
func jsonOrForm(w http.ResponseWriter, r *http.Request, field string) (string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return "", chungthuc.Errorf(chungthuc.EINVALID, "the body is not a JSON object")
		}
		v, _ := m[field].(string)
		return v, nil
	}
	return r.FormValue(field), nil
}
