package api

import (
	"context"
	"net/http"
	"testing"
)

// TestAccountSessionsEnd: disabling an account ends its browser sessions at once and refuses
// its logins until it is enabled again; DeleteSessions ("log out everywhere") ends
// every session of one account and no other's.
func TestAccountSessionsEnd(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	status := func(cl *http.Client) int {
		t.Helper()
		res, err := cl.Get(e.srv.URL + "/app/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	first, second := e.loginAny("canbo"), e.loginAny("canbo")
	if st := status(first); st != http.StatusOK {
		t.Fatalf("logged-in officer: %d", st)
	}
	acct, err := e.reg.AccountByUsername(ctx, "canbo")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.reg.SetAccountDisabled(ctx, acct.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*http.Client{first, second} {
		if st := status(cl); st == http.StatusOK {
			t.Fatal("a session of a disabled account still opens the workspace")
		}
	}
	if _, _, code := e.login("canbo", e.password); code == http.StatusSeeOther {
		t.Fatal("a disabled account logged in")
	}
	if err := e.reg.SetAccountDisabled(ctx, acct.ID, false); err != nil {
		t.Fatal(err)
	}
	if st := status(first); st == http.StatusOK {
		t.Fatal("enabling an account brought an ended session back")
	}

	a, b := e.loginAny("canbo"), e.loginAny("canbo")
	other := e.loginAny("canbo.tm")
	n, err := e.reg.DeleteSessions(ctx, acct.ID, "")
	if err != nil || n != 2 {
		t.Fatalf("DeleteSessions = %d, %v; want 2", n, err)
	}
	for _, cl := range []*http.Client{a, b} {
		if st := status(cl); st == http.StatusOK {
			t.Fatal("a session survived DeleteSessions")
		}
	}
	if st := status(other); st != http.StatusOK {
		t.Fatalf("another account's session ended: %d", st)
	}
}
