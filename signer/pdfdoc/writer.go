package pdfdoc

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Writer appends numbered objects to a PDF file held in memory and closes each revision with
// a classic cross-reference section and trailer. A Writer either starts a new file (New) or
// appends an incremental update to a finished one (UpdateInPlace). It is not safe for concurrent use.
type Writer struct {
	buf     []byte
	size    int           // next object number
	offsets map[int]int64 // object number → offset, for this revision
	prev    *Revision     // the revision this update appends to; nil for a new file
	version string
}

// Revision describes a finished revision of a file written by Writer: what the next
// incremental update needs to append to it.
type Revision struct {
	Size      int // the trailer's /Size (one more than the highest object number)
	Root      Ref // the catalog
	Info      Ref // the document information dictionary; zero if none
	ID        [2]Hex
	StartXref int64 // offset of this revision's cross-reference section
	Length    int64 // length of the file up to and including this revision's %%EOF line
}

// New starts a PDF file with the given header version (e.g. "1.7") in a buffer with room
// for capacity bytes.
func New(version string, capacity int) *Writer {
	w := &Writer{buf: make([]byte, 0, capacity), size: 1, offsets: map[int]int64{}, version: version}
	w.buf = append(w.buf, "%PDF-"+version+"\n%\xE2\xE3\xCF\xD3\n"...)
	return w
}

// UpdateInPlace starts an incremental update of the finished file in buf, whose last
// revision is prev (as Finish or Read describe it). The update's objects are appended to
// buf itself (give it spare capacity to avoid a copy); old objects are replaced by writing
// a new object with the same Ref. buf must hold exactly the finished file.
func UpdateInPlace(buf []byte, prev Revision) (*Writer, error) {
	if int64(len(buf)) != prev.Length {
		return nil, fmt.Errorf("pdfdoc: update of a %d-byte file whose last revision ends at %d", len(buf), prev.Length)
	}
	p := prev
	return &Writer{buf: buf, size: prev.Size, offsets: map[int]int64{}, prev: &p}, nil
}

// Alloc reserves the next object number.
func (w *Writer) Alloc() Ref {
	r := Ref{Num: w.size}
	w.size++
	return r
}

// Add writes o as a new object and returns its reference.
func (w *Writer) Add(o Object) Ref {
	r := w.Alloc()
	w.Put(r, o)
	return r
}

// Put writes o as object r (allocated earlier, or an existing object being replaced in an
// update). It returns the offset of the object's first byte.
func (w *Writer) Put(r Ref, o Object) int64 {
	off := int64(len(w.buf))
	w.offsets[r.Num] = off
	w.buf = strconv.AppendInt(w.buf, int64(r.Num), 10)
	w.buf = append(w.buf, ' ')
	w.buf = strconv.AppendInt(w.buf, int64(r.Gen), 10)
	w.buf = append(w.buf, " obj\n"...)
	w.buf = appendObject(w.buf, o)
	w.buf = append(w.buf, "\nendobj\n"...)
	return off
}

// PutRaw writes object r whose body is given as raw PDF syntax and returns the offset of the
// body's first byte (so that the caller can patch placeholders in it later with Patch).
func (w *Writer) PutRaw(r Ref, body []byte) int64 {
	w.offsets[r.Num] = int64(len(w.buf))
	w.buf = strconv.AppendInt(w.buf, int64(r.Num), 10)
	w.buf = append(w.buf, ' ')
	w.buf = strconv.AppendInt(w.buf, int64(r.Gen), 10)
	w.buf = append(w.buf, " obj\n"...)
	off := int64(len(w.buf))
	w.buf = append(w.buf, body...)
	w.buf = append(w.buf, "\nendobj\n"...)
	return off
}

// Len is the number of bytes written so far.
func (w *Writer) Len() int64 { return int64(len(w.buf)) }

// Finish writes the cross-reference section and trailer of this revision, with root as the
// catalog (and info, if not zero, as the information dictionary), and returns the file and
// the revision's description. A new file gets a random /ID; an update keeps the first part
// of the previous /ID and gets a new second part.
func (w *Writer) Finish(root, info Ref) ([]byte, Revision, error) {
	if root.Num == 0 {
		return nil, Revision{}, errors.New("pdfdoc: no catalog")
	}
	for n := range w.offsets {
		if n <= 0 || n >= w.size {
			return nil, Revision{}, fmt.Errorf("pdfdoc: object %d outside 1..%d", n, w.size-1)
		}
	}
	var id [2]Hex
	second := make(Hex, 16)
	if _, err := rand.Read(second); err != nil {
		return nil, Revision{}, err
	}
	if w.prev != nil {
		id = [2]Hex{w.prev.ID[0], second}
	} else {
		id = [2]Hex{second, second}
	}
	startxref := int64(len(w.buf))
	w.buf = append(w.buf, "xref\n"...)
	if w.prev == nil {
		// A new file: one subsection 0..size-1; every number must have been written.
		w.buf = append(w.buf, "0 "...)
		w.buf = strconv.AppendInt(w.buf, int64(w.size), 10)
		w.buf = append(w.buf, "\n0000000000 65535 f\r\n"...)
		for n := 1; n < w.size; n++ {
			off, ok := w.offsets[n]
			if !ok {
				return nil, Revision{}, fmt.Errorf("pdfdoc: object %d allocated but not written", n)
			}
			w.buf = appendXrefEntry(w.buf, off)
		}
	} else {
		// An update: one subsection per run of consecutive written numbers.
		nums := make([]int, 0, len(w.offsets))
		for n := range w.offsets {
			nums = append(nums, n)
		}
		slices.Sort(nums)
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			w.buf = strconv.AppendInt(w.buf, int64(nums[i]), 10)
			w.buf = append(w.buf, ' ')
			w.buf = strconv.AppendInt(w.buf, int64(j-i+1), 10)
			w.buf = append(w.buf, '\n')
			for k := i; k <= j; k++ {
				w.buf = appendXrefEntry(w.buf, w.offsets[nums[k]])
			}
			i = j + 1
		}
		for n := w.prev.Size; n < w.size; n++ {
			if _, ok := w.offsets[n]; !ok {
				return nil, Revision{}, fmt.Errorf("pdfdoc: object %d allocated but not written", n)
			}
		}
	}
	trailer := Dict{"Size": Int(w.size), "Root": root, "ID": Array{id[0], id[1]}}
	if info.Num != 0 {
		trailer["Info"] = info
	}
	if w.prev != nil {
		trailer["Prev"] = Int(w.prev.StartXref)
	}
	w.buf = append(w.buf, "trailer\n"...)
	w.buf = trailer.appendTo(w.buf)
	w.buf = append(w.buf, "\nstartxref\n"...)
	w.buf = strconv.AppendInt(w.buf, startxref, 10)
	w.buf = append(w.buf, "\n%%EOF\n"...)
	rev := Revision{Size: w.size, Root: root, Info: info, ID: id, StartXref: startxref, Length: int64(len(w.buf))}
	return w.buf, rev, nil
}

func appendXrefEntry(b []byte, off int64) []byte {
	s := strconv.AppendInt(make([]byte, 0, 10), off, 10)
	for i := len(s); i < 10; i++ {
		b = append(b, '0')
	}
	b = append(b, s...)
	return append(b, " 00000 n\r\n"...)
}
