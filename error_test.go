package chungthuc

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// TestErrorWrapsItsCause: errors.Is/As see the cause through Wrap and Errorf; the message
// for the reader never carries it; the log text and ErrorDetail do.
func TestErrorWrapsItsCause(t *testing.T) {
	_, cause := os.Open("/nonexistent/chungthuc/register.db")
	err := error(Wrap(cause, EUNAVAILABLE, "the register cannot be opened"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("errors.Is through Wrap: %v", err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "/nonexistent/chungthuc/register.db" {
		t.Fatalf("errors.As through Wrap: %v", err)
	}
	if m := ErrorMessage(err); strings.Contains(m, "/nonexistent") || m != "the register cannot be opened" {
		t.Fatalf("message %q", m)
	}
	if !strings.Contains(err.Error(), "/nonexistent/chungthuc/register.db") || !strings.Contains(ErrorDetail(err), "no such file") {
		t.Fatalf("log text %q / detail %q lack the cause", err.Error(), ErrorDetail(err))
	}
	if ErrorCode(err) != EUNAVAILABLE || errors.Unwrap(err) != cause {
		t.Fatalf("code %s unwrap %v", ErrorCode(err), errors.Unwrap(err))
	}
	// Errorf keeps its first error argument as the cause, text unchanged and not repeated.
	e2 := Errorf(EINVALID, "cannot read %s: %v", "x", cause)
	if !errors.Is(e2, fs.ErrNotExist) || strings.Count(e2.Error(), "no such file") != 1 || ErrorDetail(e2) != e2.Message {
		t.Fatalf("Errorf: %v / %q", e2, ErrorDetail(e2))
	}
	if Errorf(EINVALID, "no cause %d", 1).Cause != nil || errors.Unwrap(Errorf(EINVALID, "x")) != nil {
		t.Fatal("a cause from nowhere")
	}
	outer := Wrap(Wrap(cause, EUNAVAILABLE, "inner"), EUNAVAILABLE, "outer")
	if d := ErrorDetail(outer); !strings.HasPrefix(d, "outer: inner: open /nonexistent") || strings.Contains(d, "chungthuc:") {
		t.Fatalf("nested detail %q", d)
	}
	if ErrorDetail(nil) != "" || ErrorDetail(errors.New("plain")) != "plain" {
		t.Fatal("ErrorDetail of nil / plain")
	}
}
