package api

import (
	"context"
	"sync"
	"time"

	"github.com/chungthuc/chungthuc"
)

// memAccounts is an in-memory chungthuc.Accounts for handler tests (the real ones live in
// storage/sqlite and storage/postgres).
type memAccounts struct {
	mu       sync.Mutex
	accounts map[int64]*chungthuc.Account
	sessions map[string]*chungthuc.Session
	tokens   map[string]*chungthuc.APIToken
	next     int64
}

var _ chungthuc.Accounts = (*memAccounts)(nil)

func newMemAccounts() *memAccounts {
	return &memAccounts{accounts: map[int64]*chungthuc.Account{}, sessions: map[string]*chungthuc.Session{}, tokens: map[string]*chungthuc.APIToken{}}
}

func notFound(what string) error { return chungthuc.Errorf(chungthuc.ENOTFOUND, "%s not found", what) }

func (m *memAccounts) CreateAccount(ctx context.Context, a *chungthuc.Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.accounts {
		if x.Username == a.Username {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "username taken")
		}
	}
	m.next++
	a.ID, a.CreatedAt = m.next, time.Now()
	c := *a
	m.accounts[a.ID] = &c
	return nil
}

func (m *memAccounts) AccountByUsername(ctx context.Context, username string) (*chungthuc.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.accounts {
		if x.Username == username {
			c := *x
			return &c, nil
		}
	}
	return nil, notFound("account")
}

func (m *memAccounts) AccountByID(ctx context.Context, id int64) (*chungthuc.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if x, ok := m.accounts[id]; ok {
		c := *x
		return &c, nil
	}
	return nil, notFound("account")
}

func (m *memAccounts) SetLoginState(ctx context.Context, id int64, failed int, lockedUntil time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.accounts[id]
	if !ok {
		return notFound("account")
	}
	x.FailedLogins, x.LockedUntil = failed, lockedUntil
	return nil
}

func (m *memAccounts) SetPassword(ctx context.Context, id int64, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.accounts[id]
	if !ok {
		return notFound("account")
	}
	x.PasswordHash = hash
	return nil
}

func (m *memAccounts) CreateSession(ctx context.Context, s *chungthuc.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *s
	m.sessions[s.TokenHash] = &c
	return nil
}

func (m *memAccounts) SessionByHash(ctx context.Context, hash string) (*chungthuc.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if x, ok := m.sessions[hash]; ok {
		c := *x
		return &c, nil
	}
	return nil, notFound("session")
}

func (m *memAccounts) DeleteSession(ctx context.Context, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, hash)
	return nil
}

func (m *memAccounts) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.sessions {
		if !now.Before(s.ExpiresAt) {
			delete(m.sessions, k)
		}
	}
	return nil
}

func (m *memAccounts) CreateAPIToken(ctx context.Context, t *chungthuc.APIToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	t.ID, t.CreatedAt = m.next, time.Now()
	c := *t
	m.tokens[t.TokenHash] = &c
	return nil
}

func (m *memAccounts) APITokenByHash(ctx context.Context, hash string) (*chungthuc.APIToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if x, ok := m.tokens[hash]; ok {
		c := *x
		return &c, nil
	}
	return nil, notFound("token")
}

func (m *memAccounts) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tokens {
		if t.ID == id {
			t.RevokedAt = at
			return nil
		}
	}
	return notFound("token")
}
