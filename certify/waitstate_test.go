package certify

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/signer"
)

// swappedScans serves other bytes for every stored scan: a store whose objects were
// replaced behind the service's back.
type swappedScans struct{ chungthuc.ObjectStore }

func (s swappedScans) Get(ctx context.Context, key, version string) (io.ReadCloser, *chungthuc.ObjectInfo, error) {
	rc, info, err := s.ObjectStore.Get(ctx, key, version)
	if err != nil || !strings.HasPrefix(key, "scans/") {
		return rc, info, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, nil, err
	}
	b[len(b)/2] ^= 0x01
	return io.NopCloser(bytes.NewReader(b)), info, nil
}

func jpegInput(x *extEnv, n int) Input {
	in := x.input()
	in.Scans = nil
	for i, sc := range testscan.Scans(n, 300<<10, 200) {
		in.Scans = append(in.Scans, chungthuc.Scan{Name: "trang" + strconv.Itoa(i+1) + ".jpg", Data: sc})
	}
	in.KeepScans = true
	return in
}

// The register keeps the prepared file without the stored scans (references instead),
// another instance puts them back from the object store, and a scan swapped in the store
// is refused: nothing is signed over it, the entry keeps waiting, and the genuine state
// still completes.
func TestWaitStateReferencesScans(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	in := jpegInput(x, 3)
	out, err := x.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	id := out.Certification.ID
	w, err := x.reg.SignatureWait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	st, err := unmarshalState(w.State)
	if err != nil {
		t.Fatal(err)
	}
	scanBytes := 0
	for _, sc := range in.Scans {
		scanBytes += len(sc.Data)
	}
	if len(st.Refs) != 3 || int64(len(w.State)) > st.Size-int64(scanBytes)+64<<10 {
		t.Fatalf("state %d bytes for a %d-byte file with %d bytes of scans, %d references", len(w.State), st.Size, scanBytes, len(st.Refs))
	}

	// Another instance (empty cache) whose store serves swapped scans.
	other := &Service{Register: x.reg, Objects: swappedScans{x.store}, Keys: x.svc.Keys, Maker: maker, External: maker, Now: x.svc.Now, BaseURL: x.svc.BaseURL}
	defer other.Close()
	sig := sign(t, x.officerDev, out.Awaiting.ToSign.Digest)
	if _, _, err := other.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: officerActor(x), Value: sig}); chungthuc.ErrorCode(err) != chungthuc.EINTERNAL {
		t.Fatalf("completion over swapped scans: %v, want EINTERNAL", err)
	}
	if status, step := x.status(t, id); status != chungthuc.StatusPending || step != chungthuc.StepOfficerSignature {
		t.Fatalf("after the refusal: %s at %s", status, step)
	}

	// A third instance with the genuine store completes both steps from the register.
	third := &Service{Register: x.reg, Objects: x.store, Keys: x.svc.Keys, Maker: maker, External: maker, Now: x.svc.Now, BaseURL: x.svc.BaseURL}
	defer third.Close()
	next, _, err := third.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: officerActor(x), Value: sig})
	if err != nil {
		t.Fatal(err)
	}
	fourth := &Service{Register: x.reg, Objects: x.store, Keys: x.svc.Keys, Maker: maker, External: maker, Now: x.svc.Now, BaseURL: x.svc.BaseURL}
	defer fourth.Close()
	_, issued, err := fourth.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: clerkActor, Value: sign(t, x.sealDev, next.ToSign.Digest)})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range in.Scans {
		if !bytes.Contains(issued.PDF, sc.Data) {
			t.Fatal("a scan is not in the issued copy byte for byte")
		}
	}
	cp, err := x.svc.ReadCopy(ctx, issued.Certification)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if got, err := io.ReadAll(cp); err != nil || !bytes.Equal(got, issued.PDF) {
		t.Fatalf("stored copy: %v", err)
	}
}

// A state written before references existed (CTW1: the whole file) still loads.
func TestWaitStateVersion1(t *testing.T) {
	pdf := []byte("%PDF-1.7 the prepared file")
	head, _ := json.Marshal(&waitState{Version: 1, Pending: &signer.Pending{Step: signer.StepOfficer}, AccessCode: "ABC"})
	data := binary.BigEndian.AppendUint32([]byte(stateMagic1), uint32(len(head)))
	data = append(append(data, head...), pdf...)
	st, err := unmarshalState(data)
	if err != nil {
		t.Fatal(err)
	}
	var s Service
	if err := s.assemble(context.Background(), st); err != nil || !bytes.Equal(st.Pending.PDF, pdf) || st.AccessCode != "ABC" {
		t.Fatalf("%q %v", st.Pending.PDF, err)
	}
	for _, bad := range [][]byte{nil, []byte("CTW9xxxxxxxx"), data[:10], append([]byte("CTW2\x00\x00\x00\x02{x"), pdf...)} {
		if _, err := unmarshalState(bad); err == nil {
			t.Fatalf("%q was accepted", bad)
		}
	}
	// References past the literal bytes are refused, not read out of bounds.
	st2 := &waitState{Pending: &signer.Pending{}, Refs: []scanRef{{Key: "scans/" + strings.Repeat("a", 64) + ".jpg", At: 1 << 20}}, Size: 5, literal: []byte("short")}
	s.scanCache.put(st2.Refs[0].Key, []byte("scan"))
	if err := s.assemble(context.Background(), st2); err == nil {
		t.Fatal("a damaged state was assembled")
	}
}

// Interleaved entries: what a step returned stays intact while later steps reuse the
// buffers of assembled files (recycle), and every copy is issued with its scans.
func TestWaitStateInterleaved(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	var ins []Input
	var nexts []*Awaiting
	var digests [][]byte
	for i := range 3 {
		in := jpegInput(x, 1+i)
		out, err := x.svc.Certify(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		next, _, err := x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: out.Certification.ID, Actor: officerActor(x), Value: sign(t, x.officerDev, out.Awaiting.ToSign.Digest)})
		if err != nil {
			t.Fatal(err)
		}
		ins, nexts, digests = append(ins, in), append(nexts, next), append(digests, bytes.Clone(next.ToSign.Digest))
	}
	for i, next := range nexts {
		if !bytes.Equal(next.ToSign.Digest, digests[i]) {
			t.Fatalf("entry %d: what it waits for changed under a later step", i)
		}
		aw, err := x.svc.ToSignOf(ctx, x.unit.ID, next.Certification.ID)
		if err != nil || !bytes.Equal(aw.ToSign.Digest, digests[i]) {
			t.Fatalf("entry %d: to-sign read back: %v", i, err)
		}
	}
	for i := len(nexts) - 1; i >= 0; i-- {
		_, issued, err := x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: nexts[i].Certification.ID, Actor: clerkActor, Value: sign(t, x.sealDev, nexts[i].ToSign.Digest)})
		if err != nil {
			t.Fatalf("seal %d: %v", i, err)
		}
		for _, sc := range ins[i].Scans {
			if !bytes.Contains(issued.PDF, sc.Data) {
				t.Fatalf("copy %d lacks its scan", i)
			}
		}
	}
}
