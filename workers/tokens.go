package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/seal"
)

// TypeTokensRefresh renews the stored sessions that expire soon.
const TypeTokensRefresh = "tokens:refresh"

// TokensRefreshEvery is how often the scheduler runs it; TokensAhead is how
// far ahead of their expiry sessions are renewed.
const (
	TokensRefreshEvery = 15 * time.Minute
	TokensAhead        = 30 * time.Minute
)

// NewTokensRefreshTask returns the periodic task.
func NewTokensRefreshTask() *asynq.Task {
	return asynq.NewTask(TypeTokensRefresh, nil, asynq.Queue(QueueLow), asynq.MaxRetry(3),
		asynq.Unique(TokensRefreshEvery-time.Minute), asynq.Timeout(10*time.Minute))
}

// TokenGraph is what renewing sessions needs from the graph.
type TokenGraph interface {
	ExpiringCredentials(ctx context.Context, before time.Time, limit int) ([]engine.ExpiringCredentials, error)
	Credentials(ctx context.Context, member string, n engine.Network, account string) (string, error)
	SaveCredentials(ctx context.Context, member string, n engine.Network, account, sealed string, expires time.Time) error
}

// Tokens runs tokens:refresh.
type Tokens struct {
	Graph   TokenGraph
	Box     *seal.Box
	Clients map[engine.Network]engine.Refresher
	Log     *slog.Logger
	Now     func() time.Time
}

// TokensOutcome counts a run's renewals.
type TokensOutcome struct {
	Renewed int `json:"renewed"`
	Failed  int `json:"failed"`
}

// Handle renews every session that ends within TokensAhead, a page at a
// time. One account that can't be renewed (its app password revoked) is
// logged and left: its next follow task signs in again or fails with a
// clear error; the others go on. Safe on two workers at once: a session
// renewed twice is still a valid session.
func (k *Tokens) Handle(ctx context.Context, t *asynq.Task) error {
	out, err := k.Run(ctx)
	if w := t.ResultWriter(); w != nil {
		b, _ := json.Marshal(out)
		_, _ = w.Write(b)
	}
	return err
}

// Run renews what is due and counts the outcome.
func (k *Tokens) Run(ctx context.Context) (TokensOutcome, error) {
	var out TokensOutcome
	seen := map[string]bool{}
	for {
		list, err := k.Graph.ExpiringCredentials(ctx, k.Now().Add(TokensAhead), 200)
		if err != nil {
			return out, err
		}
		progress := false
		for _, e := range list {
			key := e.Member + "\x00" + string(e.Network) + "\x00" + e.Account
			if seen[key] {
				continue
			}
			seen[key] = true
			progress = true
			if err := k.renew(ctx, e); err != nil {
				out.Failed++
				k.Log.Warn("session not renewed", "member", e.Member, "network", e.Network, "account", e.Account, "err", err)
				continue
			}
			out.Renewed++
		}
		if !progress {
			return out, nil
		}
	}
}

func (k *Tokens) renew(ctx context.Context, e engine.ExpiringCredentials) error {
	r, ok := k.Clients[e.Network]
	if !ok {
		return fmt.Errorf("no client renews %s sessions", e.Network)
	}
	sealed, err := k.Graph.Credentials(ctx, e.Member, e.Network, e.Account)
	if err != nil {
		return err
	}
	bind := engine.CredentialsContext(e.Member, e.Account)
	plain, err := k.Box.Open(sealed, bind)
	if err != nil {
		return err
	}
	var c engine.Credentials
	if err := json.Unmarshal([]byte(plain), &c); err != nil {
		return err
	}
	fresh, err := r.Refresh(ctx, c)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(fresh)
	if err != nil {
		return err
	}
	return k.Graph.SaveCredentials(ctx, e.Member, e.Network, e.Account, k.Box.Seal(string(raw), bind), fresh.Expires)
}
