package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/engine/seal"
)

// FollowBatch is the most targets one follow task carries.
const FollowBatch = 100

// FollowPayload names a member, their account on the network, and the
// accounts to follow from it: ids only.
type FollowPayload struct {
	Member  string   `json:"member"`
	Account string   `json:"account"`
	Targets []string `json:"targets"`
}

// TaskType returns the follow task type of a network: follow:bluesky or
// follow:mastodon.
func TaskType(n engine.Network) string { return "follow:" + string(n) }

// NewFollowTask returns a follow task. Its id is derived from its content,
// so the same batch enqueued twice is one task.
func NewFollowTask(n engine.Network, p FollowPayload, opts ...asynq.Option) (*asynq.Task, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	base := []asynq.Option{asynq.TaskID(followID(n, p)),
		asynq.Queue(QueueDefault), asynq.MaxRetry(20), asynq.Timeout(10 * time.Minute), asynq.Retention(24 * time.Hour)}
	return asynq.NewTask(TaskType(n), b, append(base, opts...)...), nil
}

// followID is the content-derived id of a follow task.
func followID(n engine.Network, p FollowPayload) string {
	targets := slices.Clone(p.Targets)
	slices.Sort(targets)
	sum := sha256.Sum256([]byte(p.Member + "\x00" + p.Account + "\x00" + strings.Join(targets, "\x00")))
	return TaskType(n) + ":" + hex.EncodeToString(sum[:12])
}

// Follower runs the follow tasks of one network.
type Follower struct {
	Name     engine.Network
	Client   engine.NetworkClient
	Graph    engine.FollowGraph
	Box      *seal.Box
	Budget   *Budget  // nil: no budget (benchmarks)
	Windows  []Window // the account's limits on this network
	Enqueuer *asynq.Client
	Log      *slog.Logger

	mu       sync.Mutex
	sessions map[string]engine.NetworkSession // member/account → open session
}

// Handle is the task handler. Safe to run twice, and after a crash at any
// point: the network's own follow list is read first, so a follow made
// before a crash is recorded, never made again.
func (f *Follower) Handle(ctx context.Context, t *asynq.Task) error {
	var p FollowPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Member == "" || p.Account == "" {
		return fmt.Errorf("%s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	s, err := f.session(ctx, p.Member, p.Account)
	if err != nil {
		return err
	}
	existing, err := s.Follows(ctx)
	if err != nil {
		f.forget(p.Member, p.Account)
		return err
	}
	var made []engine.FollowMade
	var pending []string
	for _, target := range p.Targets {
		if uri, ok := existing[target]; ok {
			made = append(made, engine.FollowMade{Target: target, URI: uri})
		} else if !slices.Contains(pending, target) {
			pending = append(pending, target)
		}
	}
	var rest []string
	if len(pending) > 0 && f.Budget != nil {
		granted, wait, err := f.Budget.Take(ctx, p.Account, f.Windows, f.Client.FollowCost(), len(pending))
		if err != nil {
			return err
		}
		if granted == 0 {
			// Out of budget: the follows wait for the window to refill, in a
			// task of their own; this one ends without failing.
			if err := f.Graph.RecordFollows(ctx, p.Member, f.Name, p.Account, made, nil); err != nil {
				return err
			}
			return f.later(ctx, p.Member, p.Account, pending, wait)
		}
		pending, rest = pending[:granted], pending[granted:]
	}
	var failed []engine.FollowFailed
	var transient error
	retry := time.Second
	for _, r := range s.FollowKnown(ctx, pending, existing) {
		switch {
		case r.Err == nil:
			made = append(made, engine.FollowMade{Target: r.Target, URI: r.URI, ByApp: !r.Exists})
		case r.RetryAfter > 0:
			// The server's own rate limit: later, not a failure.
			rest = append(rest, r.Target)
			retry = max(retry, r.RetryAfter)
		case r.Permanent:
			failed = append(failed, engine.FollowFailed{Target: r.Target, Reason: r.Err.Error()})
		default:
			transient = r.Err
		}
	}
	if err := f.Graph.RecordFollows(ctx, p.Member, f.Name, p.Account, made, failed); err != nil {
		return err
	}
	f.Log.Info("follows", "network", f.Name, "member", p.Member, "made", len(made), "failed", len(failed), "later", len(rest))
	writeResult(t, made, failed)
	if len(rest) > 0 {
		// What the budget could not grant now goes in a task of its own,
		// to run as soon as there is room again.
		if err := f.later(ctx, p.Member, p.Account, rest, retry); err != nil {
			return err
		}
	}
	if transient != nil {
		// Retried with backoff; what was made is found and kept next time.
		return fmt.Errorf("%s: %w", t.Type(), transient)
	}
	return nil
}

// later enqueues the pending targets to run at the end of wait. The new
// task's id adds its due second to the content id: the running task may
// have the same content, and a retry of this one after a crash makes the
// same id again.
func (f *Follower) later(ctx context.Context, member, account string, pending []string, wait time.Duration) error {
	due := time.Now().Add(wait).Truncate(time.Second).Add(time.Second)
	p := FollowPayload{Member: member, Account: account, Targets: pending}
	next, err := NewFollowTask(f.Name, p, asynq.ProcessAt(due), asynq.TaskID(fmt.Sprintf("%s:at:%d", followID(f.Name, p), due.Unix())))
	if err != nil {
		return err
	}
	if _, err := f.Enqueuer.EnqueueContext(ctx, next); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("defer follows: %w", err)
	}
	f.Log.Info("follows deferred", "network", f.Name, "member", member, "targets", len(pending), "due", due)
	return nil
}

func (f *Follower) session(ctx context.Context, member, account string) (engine.NetworkSession, error) {
	key := member + "\x00" + account
	f.mu.Lock()
	s, ok := f.sessions[key]
	f.mu.Unlock()
	if ok {
		return s, nil
	}
	sealed, err := f.Graph.Credentials(ctx, member, f.Name, account)
	if err != nil {
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			return nil, fmt.Errorf("%v: %w", err, asynq.SkipRetry)
		}
		return nil, err
	}
	plain, err := f.Box.Open(sealed, engine.CredentialsContext(member, account))
	if err != nil {
		return nil, fmt.Errorf("credentials of %s: %v: %w", member, err, asynq.SkipRetry)
	}
	var c engine.Credentials
	if err := json.Unmarshal([]byte(plain), &c); err != nil {
		return nil, fmt.Errorf("credentials of %s: %v: %w", member, err, asynq.SkipRetry)
	}
	s, err = f.Client.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.sessions == nil {
		f.sessions = map[string]engine.NetworkSession{}
	}
	f.sessions[key] = s
	f.mu.Unlock()
	return s, nil
}

func (f *Follower) forget(member, account string) {
	f.mu.Lock()
	delete(f.sessions, member+"\x00"+account)
	f.mu.Unlock()
}

// FollowOutcome is a follow task's result, for progress pages and tests.
type FollowOutcome struct {
	Made   int                   `json:"made"`
	Failed []engine.FollowFailed `json:"failed"`
}

func writeResult(t *asynq.Task, made []engine.FollowMade, failed []engine.FollowFailed) {
	if w := t.ResultWriter(); w != nil {
		b, _ := json.Marshal(FollowOutcome{Made: len(made), Failed: failed})
		_, _ = w.Write(b)
	}
}
