package verify

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
)

// limits bound the work done on one file.
type limits struct {
	maxObjects      int   // objects per revision, entries per xref section
	maxStream       int64 // decoded size of one stream
	maxDecodedTotal int64 // decoded bytes over the whole request
	maxSections     int   // xref sections in one /Prev chain
}

var errLimit = errors.New("limit exceeded")

// file is a PDF held in memory, with the xref sections and revisions read so far.
type file struct {
	data     []byte
	lim      limits
	decoded  int64
	work     int64 // bytes scanned by parsers (see parser.work)
	maxWork  int64
	sections map[int64]*xrefSection
	revs     map[int64]*revision
}

func newFile(data []byte, lim limits) *file {
	return &file{data: data, lim: lim, sections: map[int64]*xrefSection{}, revs: map[int64]*revision{},
		maxWork: 64*int64(len(data)) + 64<<20}
}

// parser returns a parser over the file at pos, charged against the file's work budget.
func (f *file) parser(pos int64) *parser {
	return &parser{buf: f.data, pos: int(pos), fromFile: true, work: &f.work, workLimit: f.maxWork}
}

// xrefEntry is one cross-reference entry: typ 0 free, 1 in use at off, 2 compressed in
// object stream off at index gen.
type xrefEntry struct {
	typ uint8
	off int64
	gen int
}

// xrefSection is one cross-reference table with its trailer, or one cross-reference stream.
type xrefSection struct {
	off     int64
	end     int64 // first byte after the section (trailer dictionary or endobj)
	stream  bool
	nums    []int
	ents    []xrefEntry
	trailer *pdict
	prev    int64 // -1 when none
	xrefStm int64 // hybrid files: offset of the /XRefStm stream, -1 when none
	err     error
}

// decode charges n decoded bytes against the request budget.
func (f *file) charge(n int) error {
	f.decoded += int64(n)
	if f.decoded > f.lim.maxDecodedTotal {
		return fmt.Errorf("%w: more than %d decoded bytes", errLimit, f.lim.maxDecodedTotal)
	}
	return nil
}

func (f *file) decode(s *pstream) ([]byte, error) {
	b, err := decodeStream(s, f.lim.maxStream)
	if err != nil {
		return nil, err
	}
	return b, f.charge(len(b))
}

// section reads (once) the xref section at off.
func (f *file) section(off int64) *xrefSection {
	if s, ok := f.sections[off]; ok {
		return s
	}
	s := &xrefSection{off: off, prev: -1, xrefStm: -1}
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
		if v, ok := s.trailer.get("Prev").(pint); ok {
			s.prev = int64(v)
		}
		if v, ok := s.trailer.get("XRefStm").(pint); ok && !s.stream {
			s.xrefStm = int64(v)
		}
		if sz, ok := intOf(s.trailer.get("Size")); ok && sz > int64(f.lim.maxObjects) {
			s.err = fmt.Errorf("%w: /Size %d", errLimit, sz)
		}
	}
	return s
}

func (f *file) parseTable(p *parser, s *xrefSection) error {
	for {
		if p.acceptKeyword("trailer") {
			break
		}
		start, ok1 := p.readUint()
		count, ok2 := p.readUint()
		if !ok1 || !ok2 {
			return syntaxErr(p.abs(p.pos), "bad xref subsection header")
		}
		if count > int64(f.lim.maxObjects) || start > int64(f.lim.maxObjects) || len(s.nums)+int(count) > f.lim.maxObjects {
			return fmt.Errorf("%w: xref subsection of %d entries", errLimit, count)
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
			e := xrefEntry{typ: 1, off: o, gen: int(g)}
			if kw == "f" {
				e.typ = 0
			}
			s.nums = append(s.nums, int(start+i))
			s.ents = append(s.ents, e)
		}
	}
	t, err := p.parseObject()
	if err != nil {
		return err
	}
	d, ok := t.(*pdict)
	if !ok {
		return syntaxErr(p.abs(p.pos), "trailer is not a dictionary")
	}
	s.trailer = d
	s.end = int64(p.pos)
	return nil
}

func (f *file) parseXrefStream(p *parser, s *xrefSection) error {
	_, _, v, err := p.parseIndirect()
	if err != nil {
		return fmt.Errorf("no xref table or stream at %d: %w", s.off, err)
	}
	st, ok := v.(*pstream)
	if !ok || nameOf(st.dict.get("Type")) != "XRef" {
		return fmt.Errorf("object at %d is not an xref stream", s.off)
	}
	s.stream = true
	s.trailer = st.dict
	s.end = int64(p.pos)
	wa, ok := st.dict.get("W").(parray)
	if !ok || len(wa) != 3 {
		return fmt.Errorf("xref stream without /W")
	}
	var w [3]int
	rowLen := 0
	for i := range 3 {
		x, ok := intOf(wa[i])
		if !ok || x < 0 || x > 8 {
			return fmt.Errorf("bad xref stream /W")
		}
		w[i] = int(x)
		rowLen += w[i]
	}
	if rowLen == 0 {
		return fmt.Errorf("bad xref stream /W")
	}
	size, _ := intOf(st.dict.get("Size"))
	if size < 0 || size > int64(f.lim.maxObjects) {
		return fmt.Errorf("%w: xref stream /Size %d", errLimit, size)
	}
	index := []int64{0, size}
	if ia, ok := st.dict.get("Index").(parray); ok {
		index = index[:0]
		for _, x := range ia {
			n, ok := intOf(x)
			if !ok || n < 0 || n > int64(f.lim.maxObjects) {
				return fmt.Errorf("bad xref stream /Index")
			}
			index = append(index, n)
		}
		if len(index)%2 != 0 {
			return fmt.Errorf("bad xref stream /Index")
		}
	}
	data, err := f.decode(st)
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
		if len(s.nums)+int(count) > f.lim.maxObjects {
			return fmt.Errorf("%w: xref stream entries", errLimit)
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
			var e xrefEntry
			switch typ {
			case 0:
				e = xrefEntry{typ: 0}
			case 1:
				e = xrefEntry{typ: 1, off: a, gen: int(b)}
			case 2:
				e = xrefEntry{typ: 2, off: a, gen: int(b)}
			default:
				continue // reserved types are null references
			}
			s.nums = append(s.nums, int(start+j))
			s.ents = append(s.ents, e)
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
	p := &parser{buf: data[:end], pos: i + len("startxref"), fromFile: true}
	v, ok := p.readUint()
	if !ok {
		return 0, fmt.Errorf("bad startxref")
	}
	return v, nil
}

// revisionEnd reports whether data[:end] ends a revision: "%%EOF" optionally followed by
// end-of-line characters.
func revisionEnd(data []byte, end int64) bool {
	if end < 5 || end > int64(len(data)) {
		return false
	}
	b := bytes.TrimRight(data[:end], "\r\n")
	return len(data[:end])-len(b) <= 2 && bytes.HasSuffix(b, []byte("%%EOF"))
}

// revisionEnds lists the offsets just after every "%%EOF" (and its end-of-line) in data.
func revisionEnds(data []byte) []int64 {
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

// revision is the document as a reader sees the file cut at end.
type revision struct {
	f         *file
	end       int64
	startxref int64
	chain     []*xrefSection // newest first, hybrid XRefStm sections after their table
	entries   map[int]xrefEntry
	trailer   *pdict
	ambiguous []int // objects a hybrid section lists differently in its table and stream

	cache  map[int]object
	errs   map[int]error
	spans  map[int][2]int64
	busy   map[int]bool
	objstm map[int]*objStm
}

type objStm struct {
	data  []byte
	nums  []int
	offs  []int
	first int
	err   error
}

// revisionAt returns the revision ending at end (cached).
func (f *file) revisionAt(end int64) (*revision, error) {
	if r, ok := f.revs[end]; ok {
		return r, nil
	}
	if len(f.revs) >= 1000 {
		return nil, fmt.Errorf("%w: more than 1000 revisions", errLimit)
	}
	f.work += end / 16 // the backwards search for startxref
	if f.work > f.maxWork {
		return nil, errWork
	}
	sx, err := lastStartxref(f.data, end)
	if err != nil {
		return nil, err
	}
	r := &revision{f: f, end: end, startxref: sx, entries: map[int]xrefEntry{},
		cache: map[int]object{}, errs: map[int]error{}, spans: map[int][2]int64{}, busy: map[int]bool{}, objstm: map[int]*objStm{}}
	seen := map[int64]bool{}
	off := sx
	for off >= 0 {
		if seen[off] {
			return nil, fmt.Errorf("xref /Prev loop at offset %d", off)
		}
		seen[off] = true
		if len(r.chain) >= f.lim.maxSections {
			return nil, fmt.Errorf("%w: more than %d xref sections", errLimit, f.lim.maxSections)
		}
		s := f.section(off)
		if s.err != nil {
			return nil, s.err
		}
		if s.off >= end {
			return nil, fmt.Errorf("xref section at %d lies after the revision end", s.off)
		}
		r.chain = append(r.chain, s)
		if r.trailer == nil && s.trailer.has("Root") {
			r.trailer = s.trailer // the newest trailer that names the catalog
		}
		tableHas := map[int]xrefEntry{}
		for i, n := range s.nums {
			if _, ok := r.entries[n]; !ok {
				r.entries[n] = s.ents[i]
			}
			tableHas[n] = s.ents[i]
		}
		if s.xrefStm >= 0 && !seen[s.xrefStm] {
			seen[s.xrefStm] = true
			xs := f.section(s.xrefStm)
			if xs.err != nil {
				return nil, fmt.Errorf("hybrid /XRefStm: %w", xs.err)
			}
			r.chain = append(r.chain, xs)
			for i, n := range xs.nums {
				if t, ok := tableHas[n]; ok && t.typ != 0 && t != xs.ents[i] {
					r.ambiguous = append(r.ambiguous, n)
				}
				if _, ok := r.entries[n]; !ok {
					r.entries[n] = xs.ents[i]
				}
			}
		}
		if len(r.entries) > f.lim.maxObjects {
			return nil, fmt.Errorf("%w: more than %d objects", errLimit, f.lim.maxObjects)
		}
		off = s.prev
	}
	if r.trailer == nil || !r.trailer.has("Root") {
		return nil, fmt.Errorf("trailer without /Root")
	}
	sort.Ints(r.ambiguous)
	f.revs[end] = r
	return r, nil
}

// location identifies where an object's bytes live, so that two revisions pointing at the
// same location necessarily hold the same object.
type location struct {
	off    int64 // file offset of the object, or of its object stream
	stmOff int64 // for compressed objects: the containing stream's own file offset
	idx    int
	typ    uint8
}

func (r *revision) location(num int) location {
	e, ok := r.entries[num]
	if !ok || e.typ == 0 {
		return location{}
	}
	if e.typ == 1 {
		return location{typ: 1, off: e.off, idx: e.gen}
	}
	se, ok := r.entries[int(e.off)]
	if !ok || se.typ != 1 {
		return location{typ: 2, off: e.off, stmOff: -1, idx: e.gen}
	}
	return location{typ: 2, off: e.off, stmOff: se.off, idx: e.gen}
}

// get returns object num as this revision sees it (nil for free or missing objects).
func (r *revision) get(num int) (object, error) {
	if v, ok := r.cache[num]; ok {
		return v, r.errs[num]
	}
	if r.busy[num] {
		return nil, fmt.Errorf("object %d refers to itself", num)
	}
	r.busy[num] = true
	defer delete(r.busy, num)
	v, err := r.load(num)
	r.cache[num] = v
	if err != nil {
		r.errs[num] = err
	}
	return v, err
}

func (r *revision) load(num int) (object, error) {
	e, ok := r.entries[num]
	if !ok || e.typ == 0 {
		return nil, nil
	}
	if e.typ == 1 {
		if e.off < 0 || e.off >= int64(len(r.f.data)) {
			return nil, fmt.Errorf("object %d: offset %d outside the file", num, e.off)
		}
		p := r.f.parser(e.off)
		p.length = r.lengthOf
		n, g, v, err := p.parseIndirect()
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", num, err)
		}
		if n != num || g != e.gen {
			return nil, fmt.Errorf("object %d: found object %d %d at offset %d", num, n, g, e.off)
		}
		r.spans[num] = [2]int64{e.off, int64(p.pos)}
		return v, nil
	}
	stm, err := r.objStream(int(e.off))
	if err != nil {
		return nil, fmt.Errorf("object %d: %w", num, err)
	}
	i := e.gen
	if i < 0 || i >= len(stm.nums) || stm.nums[i] != num {
		return nil, fmt.Errorf("object %d not at index %d of object stream %d", num, i, e.off)
	}
	p := &parser{buf: stm.data, pos: stm.first + stm.offs[i], work: &r.f.work, workLimit: r.f.maxWork}
	if p.pos > len(stm.data) {
		return nil, fmt.Errorf("object %d: bad offset in object stream", num)
	}
	v, err := p.parseObject()
	if err != nil {
		return nil, fmt.Errorf("object %d: %w", num, err)
	}
	return v, nil
}

func (r *revision) lengthOf(ref pref) (int64, bool) {
	v, err := r.get(ref.num)
	if err != nil {
		return 0, false
	}
	n, ok := v.(pint)
	return int64(n), ok && n >= 0
}

func (r *revision) objStream(num int) (*objStm, error) {
	if s, ok := r.objstm[num]; ok {
		return s, s.err
	}
	s := &objStm{}
	r.objstm[num] = s
	s.err = func() error {
		if e, ok := r.entries[num]; !ok || e.typ != 1 {
			return fmt.Errorf("object stream %d is not a plain object", num)
		}
		v, err := r.get(num)
		if err != nil {
			return err
		}
		st, ok := v.(*pstream)
		if !ok || nameOf(st.dict.get("Type")) != "ObjStm" {
			return fmt.Errorf("object %d is not an object stream", num)
		}
		n, ok1 := intOf(st.dict.get("N"))
		first, ok2 := intOf(st.dict.get("First"))
		if !ok1 || !ok2 || n < 0 || n > int64(r.f.lim.maxObjects) || first < 0 {
			return fmt.Errorf("object stream %d: bad /N or /First", num)
		}
		data, err := r.f.decode(st)
		if err != nil {
			return fmt.Errorf("object stream %d: %w", num, err)
		}
		if first > int64(len(data)) {
			return fmt.Errorf("object stream %d: /First beyond data", num)
		}
		s.data = data
		s.first = int(first)
		p := &parser{buf: data[:first]}
		for range n {
			a, ok1 := p.readUint()
			b, ok2 := p.readUint()
			if !ok1 || !ok2 || a > 1<<31 || b > int64(len(data)) {
				return fmt.Errorf("object stream %d: bad header", num)
			}
			s.nums = append(s.nums, int(a))
			s.offs = append(s.offs, int(b))
		}
		return nil
	}()
	return s, s.err
}

// resolve follows references (a bounded number of times).
func (r *revision) resolve(o object) object {
	for range 8 {
		ref, ok := o.(pref)
		if !ok {
			return o
		}
		v, _ := r.get(ref.num)
		if e := r.entries[ref.num]; e.typ == 1 && e.gen != ref.gen {
			return nil
		}
		o = v
	}
	return nil
}

func (r *revision) dict(o object) *pdict {
	switch v := r.resolve(o).(type) {
	case *pdict:
		return v
	case *pstream:
		return v.dict
	}
	return nil
}

func (r *revision) root() *pdict { return r.dict(r.trailer.get("Root")) }
