package pdf

import (
	"bytes"
	"errors"
	"fmt"
)

// Default limits (a zero Limits field takes these).
const (
	DefaultMaxObjects  = 500_000  // objects of a revision, entries of an xref section, /Size
	DefaultMaxStream   = 64 << 20 // decoded bytes of one stream
	DefaultMaxSections = 4096     // xref sections in one /Prev chain
	// The decoded bytes of all streams of a File default to 4 × MaxStream, and the parse
	// work to 64 bytes scanned per byte of the file plus 64 MiB.
)

// maxRevisions bounds the revisions one File reads.
const maxRevisions = 1000

// Limits bound the memory and time spent on one file. A zero field takes its default.
type Limits struct {
	// MaxObjects bounds the objects one revision lists, the entries of one xref section
	// or xref stream, its /Size, and the objects of an object stream.
	MaxObjects int
	// MaxStream bounds the decoded size of one stream (decompression bombs).
	MaxStream int64
	// MaxDecoded bounds the decoded bytes of all streams a File decodes, together (the
	// per-request budget: every Decode, xref stream and object stream is charged).
	MaxDecoded int64
	// MaxSections bounds the xref sections of one revision's /Prev chain.
	MaxSections int
	// MaxWork bounds the bytes the parser scans over the File's life (objects parsed,
	// searches for "endstream", backward searches for "startxref"): hostile files cannot
	// make the reader rescan the file without end.
	MaxWork int64
}

func (l Limits) withDefaults(size int) Limits {
	if l.MaxObjects <= 0 {
		l.MaxObjects = DefaultMaxObjects
	}
	if l.MaxStream <= 0 {
		l.MaxStream = DefaultMaxStream
	}
	if l.MaxDecoded <= 0 {
		l.MaxDecoded = 4 * l.MaxStream
	}
	if l.MaxSections <= 0 {
		l.MaxSections = DefaultMaxSections
	}
	if l.MaxWork <= 0 {
		l.MaxWork = 64*int64(size) + 64<<20
	}
	return l
}

// ErrLimit is wrapped by every error that reports a limit of Limits being reached.
var ErrLimit = errors.New("limit exceeded")

// File is a PDF held in memory, with the xref sections and revisions read so far. It
// never repairs a file: what it reads is exactly what the cross-reference sections say.
// A File is not safe for concurrent use (it caches sections, revisions and objects and
// charges its budgets as it goes).
type File struct {
	data     []byte
	lim      Limits
	decoded  int64
	work     int64 // bytes scanned by parsers (see parser.work)
	sections map[int64]*Section
	revs     map[int64]*Revision
	heads    map[int64]objectHead // by file offset, see Revision.ObjectAt
	objstms  map[[2]int64]*objStm // object streams by file offset and raw length
}

// Open returns a File over data (which is neither copied nor modified, and must not be
// modified while the File is used). Nothing is read until a revision is asked for.
func Open(data []byte, lim Limits) *File {
	return &File{data: data, lim: lim.withDefaults(len(data)), sections: map[int64]*Section{}, revs: map[int64]*Revision{},
		heads: map[int64]objectHead{}, objstms: map[[2]int64]*objStm{}}
}

// Data returns the file's bytes.
func (f *File) Data() []byte { return f.data }

// Limits returns the limits in force (defaults filled in).
func (f *File) Limits() Limits { return f.lim }

// parser returns a parser over the file at pos, charged against the file's work budget.
func (f *File) parser(pos int64) *parser {
	return &parser{buf: f.data, pos: int(pos), fromFile: true, work: &f.work, workLimit: f.lim.MaxWork}
}

// EntryType is the type of a cross-reference entry.
type EntryType uint8

// The cross-reference entry types.
const (
	Free       EntryType = 0 // a free (deleted) object
	InUse      EntryType = 1 // an object at a file offset
	Compressed EntryType = 2 // an object inside an object stream
)

// Entry is one cross-reference entry. For InUse, Off is the file offset of "n g obj" and
// Gen its generation; for Compressed, Off is the object number of the object stream and
// Gen the index inside it.
type Entry struct {
	Type EntryType
	Off  int64
	Gen  int
}

// Generation returns the generation number a reference to this entry's object carries:
// Gen for InUse entries, 0 otherwise.
func (e Entry) Generation() int {
	if e.Type == InUse {
		return e.Gen
	}
	return 0
}

// Section is one cross-reference table with its trailer, or one cross-reference stream.
// Its fields are read-only.
type Section struct {
	Off     int64   // offset of "xref", or of the xref stream object
	End     int64   // first byte after the section (after the trailer dictionary, or endobj)
	Stream  bool    // a cross-reference stream
	Nums    []int   // object numbers, in the section's order
	Entries []Entry // Entries[i] is the entry of object Nums[i]
	Trailer *Dict   // the trailer dictionary, or the xref stream's dictionary
	Prev    int64   // /Prev, -1 when none
	XRefStm int64   // hybrid files: /XRefStm of a table, -1 when none
	err     error
}

// charge charges n decoded bytes against the File's budget.
func (f *File) charge(n int) error {
	f.decoded += int64(n)
	if f.decoded > f.lim.MaxDecoded {
		return fmt.Errorf("%w: more than %d decoded bytes", ErrLimit, f.lim.MaxDecoded)
	}
	return nil
}

// Decode returns the decoded data of s (filters FlateDecode with PNG predictors,
// ASCIIHexDecode, ASCII85Decode; see DecodeStream). The result is at most
// Limits.MaxStream bytes (else ErrBomb) and is charged against Limits.MaxDecoded (else
// ErrLimit). The result may alias s.Raw when s has no filter.
func (f *File) Decode(s *Stream) ([]byte, error) {
	if err := f.charge(0); err != nil { // the budget is spent: decode nothing more
		return nil, err
	}
	b, err := DecodeStream(s, f.lim.MaxStream)
	if err != nil {
		return nil, err
	}
	return b, f.charge(len(b))
}

// Section reads (once) the cross-reference section at off: a table with its trailer or
// an xref stream. Its own /Size and entry count are held to Limits.MaxObjects.
func (f *File) Section(off int64) (*Section, error) {
	s := f.section(off)
	return s, s.err
}

func (f *File) section(off int64) *Section {
	if s, ok := f.sections[off]; ok {
		return s
	}
	s := &Section{Off: off, Prev: -1, XRefStm: -1}
	f.sections[off] = s
	if off < 0 || off >= int64(len(f.data)) {
		s.err = fmt.Errorf("xref offset %d outside the file", off)
		return s
	}
	p := f.parser(off)
	if p.acceptKeyword("xref") {
		s.err = f.parseTable(p, s)
	} else {
		p.pos = int(off)
		s.err = f.parseXrefStream(p, s)
	}
	if s.err == nil {
		if v, ok := s.Trailer.Get("Prev").(Int); ok {
			s.Prev = int64(v)
		}
		if v, ok := s.Trailer.Get("XRefStm").(Int); ok && !s.Stream {
			s.XRefStm = int64(v)
		}
		if sz, ok := IntOf(s.Trailer.Get("Size")); ok && sz > int64(f.lim.MaxObjects) {
			s.err = fmt.Errorf("%w: /Size %d", ErrLimit, sz)
		}
	}
	return s
}

func (f *File) parseTable(p *parser, s *Section) error {
	for {
		if p.acceptKeyword("trailer") {
			break
		}
		start, ok1 := p.readUint()
		count, ok2 := p.readUint()
		if !ok1 || !ok2 {
			return syntaxErr(p.abs(p.pos), "bad xref subsection header")
		}
		if count > int64(f.lim.MaxObjects) || start > int64(f.lim.MaxObjects) || len(s.Nums)+int(count) > f.lim.MaxObjects {
			return fmt.Errorf("%w: xref subsection of %d entries", ErrLimit, count)
		}
		if count*18 > int64(len(p.buf)-p.pos) {
			return syntaxErr(p.abs(p.pos), "xref subsection longer than the file")
		}
		for i := int64(0); i < count; i++ {
			o, ok1 := p.readUint()
			g, ok2 := p.readUint()
			kw := string(p.peekKeyword())
			if !ok1 || !ok2 || (kw != "n" && kw != "f") || g > 65535 {
				return syntaxErr(p.abs(p.pos), "bad xref entry")
			}
			p.pos++
			e := Entry{Type: InUse, Off: o, Gen: int(g)}
			if kw == "f" {
				e.Type = Free
			}
			s.Nums = append(s.Nums, int(start+i))
			s.Entries = append(s.Entries, e)
		}
	}
	t, err := p.parseObject()
	if err != nil {
		return err
	}
	d, ok := t.(*Dict)
	if !ok {
		return syntaxErr(p.abs(p.pos), "trailer is not a dictionary")
	}
	s.Trailer = d
	s.End = int64(p.pos)
	return nil
}

func (f *File) parseXrefStream(p *parser, s *Section) error {
	_, _, v, err := p.parseIndirect()
	if err != nil {
		return fmt.Errorf("no xref table or stream at %d: %w", s.Off, err)
	}
	st, ok := v.(*Stream)
	if !ok || NameOf(st.Dict.Get("Type")) != "XRef" {
		return fmt.Errorf("object at %d is not an xref stream", s.Off)
	}
	s.Stream = true
	s.Trailer = st.Dict
	s.End = int64(p.pos)
	wa, ok := st.Dict.Get("W").(Array)
	if !ok || len(wa) != 3 {
		return fmt.Errorf("xref stream without /W")
	}
	var w [3]int
	rowLen := 0
	for i := range 3 {
		x, ok := IntOf(wa[i])
		if !ok || x < 0 || x > 8 {
			return fmt.Errorf("bad xref stream /W")
		}
		w[i] = int(x)
		rowLen += w[i]
	}
	if rowLen == 0 {
		return fmt.Errorf("bad xref stream /W")
	}
	size, _ := IntOf(st.Dict.Get("Size"))
	if size < 0 || size > int64(f.lim.MaxObjects) {
		return fmt.Errorf("%w: xref stream /Size %d", ErrLimit, size)
	}
	index := []int64{0, size}
	if ia, ok := st.Dict.Get("Index").(Array); ok {
		index = index[:0]
		for _, x := range ia {
			n, ok := IntOf(x)
			if !ok || n < 0 || n > int64(f.lim.MaxObjects) {
				return fmt.Errorf("bad xref stream /Index")
			}
			index = append(index, n)
		}
		if len(index)%2 != 0 {
			return fmt.Errorf("bad xref stream /Index")
		}
	}
	data, err := f.Decode(st)
	if err != nil {
		return fmt.Errorf("xref stream: %w", err)
	}
	field := func(b []byte) int64 {
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	pos := 0
	for i := 0; i < len(index); i += 2 {
		start, count := index[i], index[i+1]
		if len(s.Nums)+int(count) > f.lim.MaxObjects {
			return fmt.Errorf("%w: xref stream entries", ErrLimit)
		}
		for j := int64(0); j < count; j++ {
			if pos+rowLen > len(data) {
				return fmt.Errorf("xref stream data too short")
			}
			row := data[pos : pos+rowLen]
			pos += rowLen
			typ := int64(1)
			if w[0] > 0 {
				typ = field(row[:w[0]])
			}
			a := field(row[w[0] : w[0]+w[1]])
			b := field(row[w[0]+w[1]:])
			var e Entry
			switch typ {
			case 0:
				e = Entry{Type: Free}
			case 1:
				e = Entry{Type: InUse, Off: a, Gen: int(b)}
			case 2:
				e = Entry{Type: Compressed, Off: a, Gen: int(b)}
			default:
				continue // reserved types are null references
			}
			s.Nums = append(s.Nums, int(start+j))
			s.Entries = append(s.Entries, e)
		}
	}
	return nil
}

// lastStartxref finds the offset named by the last "startxref" before end.
func lastStartxref(data []byte, end int64) (int64, error) {
	i := bytes.LastIndex(data[:end], []byte("startxref"))
	if i < 0 {
		return 0, fmt.Errorf("no startxref")
	}
	v, _, ok := ReadUint(data[:end], i+len("startxref"))
	if !ok {
		return 0, fmt.Errorf("bad startxref")
	}
	return v, nil
}

// EndsRevision reports whether data[:end] ends a revision: "%%EOF" followed by at most
// two end-of-line characters.
func EndsRevision(data []byte, end int64) bool {
	if end < 5 || end > int64(len(data)) {
		return false
	}
	b := bytes.TrimRight(data[:end], "\r\n")
	return len(data[:end])-len(b) <= 2 && bytes.HasSuffix(b, []byte("%%EOF"))
}

// RevisionEnds lists the offsets just after every "%%EOF" (and its CR, LF or CRLF) in
// data, in file order: the ends of the file's incremental revisions. A "%%EOF" inside a
// stream or string counts too; Revision decides whether a readable revision ends there.
func RevisionEnds(data []byte) []int64 {
	var out []int64
	for i := 0; ; {
		k := bytes.Index(data[i:], []byte("%%EOF"))
		if k < 0 {
			return out
		}
		e := i + k + 5
		if e < len(data) && data[e] == '\r' {
			e++
		}
		if e < len(data) && data[e] == '\n' {
			e++
		}
		out = append(out, int64(e))
		i = e
	}
}
