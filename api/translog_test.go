package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc/translog"
)

// TestPublicLog: the checkpoint and key are published; a copy's leaves come with inclusion
// proofs a client checks with the published key alone; consistency proofs check between
// two published checkpoints; the verification page and JSON say where the copy is in the
// log; unknown tokens get the verification page's 404.
func TestPublicLog(t *testing.T) {
	e := newEnv(t, nil)
	first := e.certifyPL().Certification
	res, cp1 := e.get("/log/checkpoint")
	if res.StatusCode != 200 || !strings.HasPrefix(cp1, "ct.example.vn/log\n1\n") || !strings.Contains(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /log/checkpoint: %d %q", res.StatusCode, cp1)
	}
	res, vkey := e.get("/log/key")
	v, err := translog.ParseVerifier(vkey)
	if res.StatusCode != 200 || err != nil {
		t.Fatalf("GET /log/key: %d %q %v", res.StatusCode, vkey, err)
	}
	second := e.certifyPL().Certification
	_, cp2 := e.get("/log/checkpoint")

	res, body := e.get("/api/v1/log/proof/" + second.Token)
	var p translog.EntryProof
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("proof: %d %s", res.StatusCode, body)
	}
	cp, err := translog.CheckEntryProof(&p, v)
	if err != nil || cp.Size != 2 || len(p.Leaves) != 1 || p.Leaves[0].Index != 1 || !p.Leaves[0].Included ||
		p.Leaves[0].Leaf.TokenSHA256 != translog.TokenHash(second.Token) || p.Leaves[0].Leaf.CopySHA256 != second.SHA256 {
		t.Fatalf("proof %+v: %v", p, err)
	}
	if strings.Contains(body, second.Token) || strings.Contains(body, second.AccessCodeHash) || strings.Contains(body, "Nguyễn Thị Hồng Nhung") {
		t.Fatal("the proof discloses the token, the access-code hash or the requester")
	}

	res, body = e.get("/api/v1/log/consistency?old=1&new=2")
	var c translog.ConsistencyProof
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &c) != nil {
		t.Fatalf("consistency: %d %s", res.StatusCode, body)
	}
	if err := translog.CheckConsistency([]byte(cp1), []byte(cp2), c.Proof, v); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}
	for _, q := range []string{"old=0&new=2", "old=2&new=3", "old=x&new=2", "new=2"} {
		if res, _ := e.get("/api/v1/log/consistency?" + q); res.StatusCode != 400 {
			t.Errorf("consistency?%s: %d, want 400", q, res.StatusCode)
		}
	}

	res, body = e.get("/api/v1/verify/" + first.Token)
	var pub struct {
		Log       map[string]any `json:"log"`
		MessageEN string         `json:"message_en"`
		MessageVI string         `json:"message_vi"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &pub) != nil || pub.Log["included"] != true || pub.Log["index"] != 0.0 ||
		!strings.Contains(pub.MessageEN, "In the public log at index 0, checkpoint of ") ||
		!strings.Contains(pub.MessageVI, "Có trong nhật ký công khai tại chỉ mục 0") {
		t.Fatalf("verify JSON: %d %s", res.StatusCode, body)
	}
	res, body = e.get("/v/" + first.Token)
	if res.StatusCode != 200 || !strings.Contains(body, "Có trong nhật ký công khai tại chỉ mục 0") {
		t.Fatalf("verification page lacks the public log line: %d", res.StatusCode)
	}
	res, unknown := e.get("/api/v1/log/proof/" + strings.Repeat("A", len(first.Token)))
	res2, unknownVerify := e.get("/api/v1/verify/" + strings.Repeat("A", len(first.Token)))
	if res.StatusCode != 404 || res2.StatusCode != 404 || stripRequestID(unknown) != stripRequestID(unknownVerify) {
		t.Fatalf("unknown token: proof %d %s, verify %d %s", res.StatusCode, unknown, res2.StatusCode, unknownVerify)
	}
}
