package pdf

import (
	"fmt"
	"slices"
	"sort"
)

// Revision is the document as a reader sees the file cut at End: the cross-reference chain
// that the last "startxref" before End names, followed through /Prev (and /XRefStm in
// hybrid files), newest entry first. Objects are parsed on demand and cached. A Revision
// is not safe for concurrent use; it shares its File's budgets.
type Revision struct {
	f         *File
	end       int64
	startxref int64
	chain     []*Section // newest first, hybrid XRefStm sections after their table
	entries   map[int]Entry
	trailer   *Dict
	ambiguous []int // objects a hybrid section lists differently in its table and stream

	cache  map[int]Object
	errs   map[int]error
	spans  map[int][2]int64
	busy   map[int]bool
	objstm map[int]*objStm
}

type objStm struct {
	data   []byte
	nums   []int
	offs   []int
	first  int
	err    error
	parsed map[int]parsedValue // by offset in data: entries that share an offset parse once
}

// Revision returns the revision that ends at end (cached per end). It fails when the
// chain is unreadable, loops, starts or reaches a section at or after end, has no trailer
// naming /Root, or breaks a limit (more than Limits.MaxSections sections or
// Limits.MaxObjects objects, more than 1000 revisions per File, the work budget: the
// backward search for "startxref" and every entry merged from the chain are charged).
func (f *File) Revision(end int64) (*Revision, error) {
	if r, ok := f.revs[end]; ok {
		return r, nil
	}
	if end < 0 || end > int64(len(f.data)) {
		return nil, fmt.Errorf("revision end %d outside the file", end)
	}
	if len(f.revs) >= maxRevisions {
		return nil, fmt.Errorf("%w: more than %d revisions", ErrLimit, maxRevisions)
	}
	f.work += end / 16 // the backwards search for startxref
	if f.work > f.lim.MaxWork {
		return nil, ErrWork
	}
	sx, err := lastStartxref(f.data, end)
	if err != nil {
		return nil, err
	}
	r := &Revision{f: f, end: end, startxref: sx, entries: map[int]Entry{},
		cache: map[int]Object{}, errs: map[int]error{}, spans: map[int][2]int64{}, busy: map[int]bool{}, objstm: map[int]*objStm{}}
	seen := map[int64]bool{}
	off := sx
	for off >= 0 {
		if seen[off] {
			return nil, fmt.Errorf("xref /Prev loop at offset %d", off)
		}
		seen[off] = true
		if len(r.chain) >= f.lim.MaxSections {
			return nil, fmt.Errorf("%w: more than %d xref sections", ErrLimit, f.lim.MaxSections)
		}
		s := f.section(off)
		if s.err != nil {
			return nil, s.err
		}
		if s.Off >= end {
			return nil, fmt.Errorf("xref section at %d lies after the revision end", s.Off)
		}
		// Merging the section's entries is work too (charged as the 20 bytes of a table
		// entry each): many revisions over one large section must not be free.
		f.work += 20 * int64(len(s.Nums))
		if f.work > f.lim.MaxWork {
			return nil, ErrWork
		}
		r.chain = append(r.chain, s)
		if r.trailer == nil && s.Trailer.Has("Root") {
			r.trailer = s.Trailer // the newest trailer that names the catalog
		}
		tableHas := map[int]Entry{}
		for i, n := range s.Nums {
			if _, ok := r.entries[n]; !ok {
				r.entries[n] = s.Entries[i]
			}
			tableHas[n] = s.Entries[i]
		}
		if s.XRefStm >= 0 && !seen[s.XRefStm] {
			seen[s.XRefStm] = true
			xs := f.section(s.XRefStm)
			if xs.err != nil {
				return nil, fmt.Errorf("hybrid /XRefStm: %w", xs.err)
			}
			f.work += 20 * int64(len(xs.Nums))
			if f.work > f.lim.MaxWork {
				return nil, ErrWork
			}
			r.chain = append(r.chain, xs)
			for i, n := range xs.Nums {
				if t, ok := tableHas[n]; ok && t.Type != Free && t != xs.Entries[i] {
					r.ambiguous = append(r.ambiguous, n)
				}
				if _, ok := r.entries[n]; !ok {
					r.entries[n] = xs.Entries[i]
				}
			}
		}
		if len(r.entries) > f.lim.MaxObjects {
			return nil, fmt.Errorf("%w: more than %d objects", ErrLimit, f.lim.MaxObjects)
		}
		off = s.Prev
	}
	if r.trailer == nil || !r.trailer.Has("Root") {
		return nil, fmt.Errorf("trailer without /Root")
	}
	sort.Ints(r.ambiguous)
	f.revs[end] = r
	return r, nil
}

// File returns the file the revision belongs to.
func (r *Revision) File() *File { return r.f }

// End returns the offset where the revision ends (the cut the revision was read at).
func (r *Revision) End() int64 { return r.end }

// StartXref returns the offset named by the revision's last "startxref".
func (r *Revision) StartXref() int64 { return r.startxref }

// Sections returns the cross-reference chain, newest first; in hybrid files each table's
// /XRefStm stream follows the table. The slice must not be modified.
func (r *Revision) Sections() []*Section { return r.chain }

// Trailer returns the newest trailer of the chain that names /Root (never nil).
func (r *Revision) Trailer() *Dict { return r.trailer }

// Ambiguous lists, in ascending order, the objects that a hybrid file's table and its
// /XRefStm stream locate differently (readers that ignore the stream see another object).
func (r *Revision) Ambiguous() []int { return r.ambiguous }

// Len returns the number of objects the chain lists (free entries included).
func (r *Revision) Len() int { return len(r.entries) }

// Entry returns the newest cross-reference entry of object num.
func (r *Revision) Entry(num int) (Entry, bool) {
	e, ok := r.entries[num]
	return e, ok
}

// Numbers returns the object numbers the chain lists (free entries included), ascending.
func (r *Revision) Numbers() []int {
	out := make([]int, 0, len(r.entries))
	for n := range r.entries {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Ref returns a reference to object num with the generation its entry carries.
func (r *Revision) Ref(num int) Ref { return Ref{Num: num, Gen: r.entries[num].Generation()} }

// Location identifies where an object's bytes live, so that two revisions of one File that
// give an object the same Location necessarily hold the same object. The zero Location is
// a free or missing object.
type Location struct {
	Type   EntryType
	Off    int64 // InUse: file offset of the object; Compressed: number of its object stream
	StmOff int64 // Compressed: the object stream's own file offset (-1 when it has none)
	Index  int   // InUse: generation; Compressed: index in the object stream
}

// Location returns where object num lives in this revision.
func (r *Revision) Location(num int) Location {
	e, ok := r.entries[num]
	if !ok || e.Type == Free {
		return Location{}
	}
	if e.Type == InUse {
		return Location{Type: InUse, Off: e.Off, Index: e.Gen}
	}
	se, ok := r.entries[int(e.Off)]
	if !ok || se.Type != InUse {
		return Location{Type: Compressed, Off: e.Off, StmOff: -1, Index: e.Gen}
	}
	return Location{Type: Compressed, Off: e.Off, StmOff: se.Off, Index: e.Gen}
}

// Object returns object num as this revision sees it: nil (and no error) for free or
// unlisted objects. A listed object that cannot be read — bad offset, wrong number or
// generation at the offset, a syntax error, a reference cycle through stream lengths or
// object streams, a limit — returns nil and the error. Results are cached.
func (r *Revision) Object(num int) (Object, error) {
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

// Span returns the byte span of object num in the file, from its "num gen obj" to just
// after "endobj" (or after the object when "endobj" is missing). ok is false for objects
// that are not plain (InUse) objects or cannot be read. It reads the object if needed.
func (r *Revision) Span(num int) (off, end int64, ok bool) {
	if _, ok := r.cache[num]; !ok {
		r.Object(num)
	}
	s, ok := r.spans[num]
	return s[0], s[1], ok
}

func (r *Revision) load(num int) (Object, error) {
	e, ok := r.entries[num]
	if !ok || e.Type == Free {
		return nil, nil
	}
	if e.Type == InUse {
		if e.Off < 0 || e.Off >= int64(len(r.f.data)) {
			return nil, fmt.Errorf("object %d: offset %d outside the file", num, e.Off)
		}
		n, g, v, end, err := r.ObjectAt(e.Off)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", num, err)
		}
		if n != num || g != e.Gen {
			return nil, fmt.Errorf("object %d: found object %d %d at offset %d", num, n, g, e.Off)
		}
		r.spans[num] = [2]int64{e.Off, end}
		return v, nil
	}
	stm, err := r.objStream(int(e.Off))
	if err != nil {
		return nil, fmt.Errorf("object %d: %w", num, err)
	}
	i := e.Gen
	if i < 0 || i >= len(stm.nums) || stm.nums[i] != num {
		return nil, fmt.Errorf("object %d not at index %d of object stream %d", num, i, e.Off)
	}
	p := &parser{buf: stm.data, pos: stm.first + stm.offs[i], work: &r.f.work, workLimit: r.f.lim.MaxWork}
	if p.pos > len(stm.data) {
		return nil, fmt.Errorf("object %d: bad offset in object stream", num)
	}
	c, ok := stm.parsed[p.pos]
	if !ok {
		start := p.pos
		if c.err = p.charge(0); c.err == nil {
			c.v, c.err = p.parseObject()
		}
		if c.err == nil {
			// Charged like objects in the file.
			c.err = p.charge(p.pos - start)
		}
		if c.err != nil {
			c.v = nil
		}
		stm.parsed[start] = c
	}
	if c.err != nil {
		return nil, fmt.Errorf("object %d: %w", num, c.err)
	}
	return c.v, nil
}

// ObjectAt parses the indirect object "num gen obj … endobj" at file offset off (a stream's
// indirect /Length is resolved in r), without consulting or filling r's cache of objects by
// number. It returns the number and generation written there, the value, and the offset
// just after the object. The bytes scanned are charged against the File's work budget.
//
// The File remembers what it parsed at each offset — all of an object but a stream's data,
// which depends on the revision's /Length — so cross-reference entries or revisions that
// all point at one large object cost one parse, not one each. Values are therefore shared
// between the revisions of a File and must not be modified.
func (r *Revision) ObjectAt(off int64) (num, gen int, v Object, end int64, err error) {
	if off < 0 || off >= int64(len(r.f.data)) {
		return 0, 0, nil, 0, fmt.Errorf("offset %d outside the file", off)
	}
	p := r.f.parser(off)
	h, ok := r.f.heads[off]
	if !ok {
		if h.err = p.charge(0); h.err == nil { // else the budget is spent: parse nothing more
			h = p.parseHead()
		}
		r.f.heads[off] = h
	}
	if h.err != nil {
		return 0, 0, nil, 0, h.err
	}
	p.length = r.lengthOf
	v, err = p.parseTail(h)
	if err != nil {
		return 0, 0, nil, 0, err
	}
	return h.num, h.gen, v, int64(p.pos), nil
}

// parsedValue is the result of parsing the object at one offset of an object stream.
type parsedValue struct {
	v   Object
	err error
}

func (r *Revision) lengthOf(ref Ref) (int64, bool) {
	v, err := r.Object(ref.Num)
	if err != nil {
		return 0, false
	}
	n, ok := v.(Int)
	return int64(n), ok && n >= 0
}

func (r *Revision) objStream(num int) (*objStm, error) {
	if s, ok := r.objstm[num]; ok {
		return s, s.err
	}
	s := &objStm{parsed: map[int]parsedValue{}}
	r.objstm[num] = s
	s.err = func() error {
		e, ok := r.entries[num]
		if !ok || e.Type != InUse {
			return fmt.Errorf("object stream %d is not a plain object", num)
		}
		v, err := r.Object(num)
		if err != nil {
			return err
		}
		st, ok := v.(*Stream)
		if !ok || NameOf(st.Dict.Get("Type")) != "ObjStm" {
			return fmt.Errorf("object %d is not an object stream", num)
		}
		// The same object at the same offset with the same data in another revision:
		// decoded and parsed once per File.
		key := [2]int64{e.Off, int64(len(st.Raw))}
		if shared, ok := r.f.objstms[key]; ok {
			*s = *shared // shares the data and the cache of parsed objects
			return shared.err
		}
		r.f.objstms[key] = s
		n, ok1 := IntOf(st.Dict.Get("N"))
		first, ok2 := IntOf(st.Dict.Get("First"))
		if !ok1 || !ok2 || n < 0 || n > int64(r.f.lim.MaxObjects) || first < 0 {
			return fmt.Errorf("object stream %d: bad /N or /First", num)
		}
		data, err := r.f.Decode(st)
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

// Resolve follows references (at most 8 in a row) and returns the direct object: nil for
// a free, missing or unreadable object, for a reference whose generation does not match
// the object's entry, and for longer chains.
func (r *Revision) Resolve(o Object) Object {
	for range 8 {
		ref, ok := o.(Ref)
		if !ok {
			return o
		}
		v, _ := r.Object(ref.Num)
		if e := r.entries[ref.Num]; e.Type == InUse && e.Gen != ref.Gen {
			return nil
		}
		o = v
	}
	return nil
}

// Dict resolves o and returns it as a dictionary (a stream's dictionary for a stream), or
// nil.
func (r *Revision) Dict(o Object) *Dict {
	switch v := r.Resolve(o).(type) {
	case *Dict:
		return v
	case *Stream:
		return v.Dict
	}
	return nil
}

// Array resolves o and returns it as an array, or nil.
func (r *Revision) Array(o Object) Array {
	a, _ := r.Resolve(o).(Array)
	return a
}

// Stream resolves o and returns it as a stream, or nil.
func (r *Revision) Stream(o Object) *Stream {
	s, _ := r.Resolve(o).(*Stream)
	return s
}

// Root returns the catalog (the trailer's /Root), or nil when it is not a dictionary.
func (r *Revision) Root() *Dict { return r.Dict(r.trailer.Get("Root")) }

// Decode is File.Decode: the decoded data of s, charged to the File's budgets.
func (r *Revision) Decode(s *Stream) ([]byte, error) { return r.f.Decode(s) }
