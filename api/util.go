package api

import (
	"bytes"
	"io"

	"github.com/chungthuc/chungthuc"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

var (
	errNotFound = chungthuc.Errorf(chungthuc.ENOTFOUND, "Page not found.")
	errMethod   = chungthuc.Errorf(chungthuc.EINVALID, "This method is not allowed here.")
)
