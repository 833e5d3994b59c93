package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
)

// Task types of arrivals: an account became reachable (a member linked it,
// a claim became verified, a dataset named it), and the members who know
// it from X are to follow it or hear of it.
const (
	TypeArrivalFanout = "arrival:fanout"
	TypeArrivalSweep  = "arrival:sweep"
	TypeMatchMember   = "match:member"
)

// ArrivalSweepEvery is how often the scheduler fans out the links that
// appeared or changed since the last sweep.
const ArrivalSweepEvery = 10 * time.Minute

// AnnounceBatch is how many announcements one graph write records.
const AnnounceBatch = 5000

// ArrivalPayload names the account that arrived.
type ArrivalPayload struct {
	Network engine.Network `json:"network"`
	Account string         `json:"account"`
}

// NewArrivalTask returns the fan-out task of an account. stamp names the
// event (the link's change time): the same event enqueued twice, by the
// link and by the sweep, or by two sweeps, is one task.
func NewArrivalTask(n engine.Network, account string, stamp time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(ArrivalPayload{Network: n, Account: account})
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s:%s:%s:%d", TypeArrivalFanout, n, account, stamp.UnixMilli())
	return asynq.NewTask(TypeArrivalFanout, b, asynq.TaskID(id), asynq.Queue(QueueDefault),
		asynq.MaxRetry(10), asynq.Timeout(30*time.Minute), asynq.Retention(24*time.Hour)), nil
}

// MatchPayload names a member whose reconnections are to be computed.
type MatchPayload struct {
	Member string `json:"member"`
}

// NewMatchTask returns match:member for a member; stamp names the event
// (an import, a link), so the same event enqueued twice is one task.
func NewMatchTask(member, stamp string) (*asynq.Task, error) {
	b, err := json.Marshal(MatchPayload{Member: member})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeMatchMember, b, asynq.TaskID(TypeMatchMember+":"+member+":"+stamp),
		asynq.Queue(QueueDefault), asynq.MaxRetry(10), asynq.Timeout(10*time.Minute), asynq.Retention(24*time.Hour)), nil
}

// Linked enqueues what follows a member linking an account: the fan-out
// to everyone who knows it from X, and the member's own matching. If
// Redis is down the link is kept and arrival:sweep fans it out later.
func Linked(ctx context.Context, q *asynq.Client, member string, n engine.Network, account string, at time.Time) error {
	fan, err := NewArrivalTask(n, account, at)
	if err != nil {
		return err
	}
	match, err := NewMatchTask(member, fmt.Sprintf("link:%s:%d", n, at.UnixMilli()))
	if err != nil {
		return err
	}
	for _, t := range []*asynq.Task{fan, match} {
		if _, err := q.EnqueueContext(ctx, t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue %s: %w", t.Type(), err)
		}
	}
	return nil
}

// ArrivalGraph is what fan-outs need from the graph.
type ArrivalGraph interface {
	Arrivals(ctx context.Context, n engine.Network, account string, fn func(engine.Arrival) error) error
	Announce(ctx context.Context, n engine.Network, account string, members []string) (int, error)
}

// Fanout runs arrival:fanout.
type Fanout struct {
	Graph    ArrivalGraph
	Enqueuer *asynq.Client
	Log      *slog.Logger
	// Parallel is how many enqueues are in flight at once (default 16):
	// the arrivals stream from the graph while their follow tasks go to
	// Redis.
	Parallel int
}

// FanoutResult counts what a fan-out did.
type FanoutResult struct {
	Members   int `json:"members"`   // rows: members who know the account from X
	Follows   int `json:"follows"`   // follow tasks enqueued now
	Queued    int `json:"queued"`    // follow tasks already queued (a replay)
	Proposals int `json:"proposals"` // members there who decide themselves (no auto-follow)
	Announced int `json:"announced"` // new announcements for digests
}

// Handle is the task handler.
func (f *Fanout) Handle(ctx context.Context, t *asynq.Task) error {
	var p ArrivalPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("%s payload: %v: %w", TypeArrivalFanout, err, asynq.SkipRetry)
	}
	account, err := engine.CheckAccount(p.Network, p.Account)
	if err != nil {
		return fmt.Errorf("%s: %v: %w", TypeArrivalFanout, err, asynq.SkipRetry)
	}
	res, err := f.Run(ctx, p.Network, account)
	if w := t.ResultWriter(); w != nil {
		b, _ := json.Marshal(res)
		_, _ = w.Write(b)
	}
	return err
}

// Run fans out the arrival of account on n. Safe to run twice and on
// several workers at once: follow tasks have content-derived ids and
// announcements are merged. Memory stays bounded: rows stream from the
// graph into a bounded channel of enqueues, and announcements are written
// in batches of AnnounceBatch.
func (f *Fanout) Run(ctx context.Context, n engine.Network, account string) (FanoutResult, error) {
	var res FanoutResult
	par := f.Parallel
	pipe := NewPipeline(ctx, f.Enqueuer, par)
	var announce []string
	flush := func() error {
		created, err := f.Graph.Announce(ctx, n, account, announce)
		res.Announced += created
		announce = announce[:0]
		return err
	}
	err := f.Graph.Arrivals(ctx, n, account, func(a engine.Arrival) error {
		res.Members++
		if a.AutoFollow() {
			task, err := NewFollowTask(n, FollowPayload{Member: a.Member, Account: a.FromAccount, Targets: []string{account}})
			if err != nil {
				return err
			}
			if err := pipe.Add(task); err != nil {
				return err
			}
		} else if a.FromAccount != "" && !a.Followed {
			res.Proposals++
		}
		if a.Announce() {
			announce = append(announce, a.Member)
			if len(announce) >= AnnounceBatch {
				return flush()
			}
		}
		return nil
	})
	enqueued, queued, perr := pipe.Close()
	if err == nil {
		err = perr
	}
	if err == nil {
		err = flush()
	}
	res.Follows, res.Queued = enqueued, queued
	if err != nil {
		return res, fmt.Errorf("%s %s %s: %w", TypeArrivalFanout, n, account, err)
	}
	f.Log.Info("arrival fanned out", "network", n, "account", account, "members", res.Members,
		"follows", res.Follows, "queued", res.Queued, "proposals", res.Proposals, "announced", res.Announced)
	return res, nil
}

// HandleMatchMember returns the match:member handler: a member with
// auto-reconnect on gets their pending reconnections enqueued (Reconnect,
// whose task ids make a replay harmless); the others see them as proposals.
func HandleMatchMember(g ReconnectGraph, q *asynq.Client) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var p MatchPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Member == "" {
			return fmt.Errorf("%s payload: %v: %w", TypeMatchMember, err, asynq.SkipRetry)
		}
		info, err := g.MemberInfo(ctx, p.Member)
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			return nil // deleted since: nothing to do
		}
		if err != nil {
			return err
		}
		if !info.AutoReconnect {
			return nil
		}
		plan, err := Reconnect(ctx, g, q, p.Member, "", false)
		if err != nil {
			return err
		}
		if w := t.ResultWriter(); w != nil {
			b, _ := json.Marshal(plan)
			_, _ = w.Write(b)
		}
		return nil
	}
}

// SweepGraph is what arrival:sweep needs from the graph.
type SweepGraph interface {
	LinksChanged(ctx context.Context, since, until time.Time) ([]engine.ChangedLink, error)
	Watermark(ctx context.Context, job string, initial, set time.Time) (time.Time, error)
}

// NewArrivalSweepTask returns the periodic sweep; Unique makes several
// schedulers enqueue it once per period.
func NewArrivalSweepTask() *asynq.Task {
	return asynq.NewTask(TypeArrivalSweep, nil, asynq.Queue(QueueLow), asynq.MaxRetry(3),
		asynq.Unique(ArrivalSweepEvery-time.Minute), asynq.Timeout(10*time.Minute))
}

// SweepOverlap is how far back each sweep looks before its watermark, for
// links whose transaction committed after a later one was swept.
const SweepOverlap = 2 * time.Minute

// HandleArrivalSweep returns the arrival:sweep handler: it enqueues the
// fan-out of every account whose links appeared or changed since the last
// sweep (dataset imports, claims that became verified, and any fan-out
// lost on the way), then moves the watermark. The first sweep looks back
// one hour. Safe to run twice or on two workers: fan-out ids name the
// change, so each change is fanned out once.
func HandleArrivalSweep(g SweepGraph, q *asynq.Client, now func() time.Time) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		until := now().UTC()
		since, err := g.Watermark(ctx, TypeArrivalSweep, until.Add(-time.Hour), time.Time{})
		if err != nil {
			return err
		}
		links, err := g.LinksChanged(ctx, since.Add(-SweepOverlap), until)
		if err != nil {
			return err
		}
		enqueued := 0
		for _, l := range links {
			task, err := NewArrivalTask(l.Network, l.Account, l.Changed)
			if err != nil {
				return err
			}
			if _, err := q.EnqueueContext(ctx, task); err == nil {
				enqueued++
			} else if !errors.Is(err, asynq.ErrTaskIDConflict) {
				return fmt.Errorf("%s: %w", TypeArrivalSweep, err)
			}
		}
		if _, err := g.Watermark(ctx, TypeArrivalSweep, until, until); err != nil {
			return err
		}
		if w := t.ResultWriter(); w != nil {
			fmt.Fprintf(w, `{"links":%d,"enqueued":%d}`, len(links), enqueued)
		}
		return nil
	}
}

// Pipeline enqueues tasks from several goroutines at once, so that a
// stream of many tasks is bounded by Redis, not by one round trip at a
// time. Add blocks when Parallel*4 tasks wait; a task whose id is queued
// already counts as queued, not as an error.
type Pipeline struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	tasks  chan *asynq.Task
	wg     sync.WaitGroup
	done   atomic.Int64
	queued atomic.Int64
}

// NewPipeline starts parallel enqueuers (16 when parallel <= 0).
func NewPipeline(ctx context.Context, q *asynq.Client, parallel int) *Pipeline {
	if parallel <= 0 {
		parallel = 16
	}
	p := &Pipeline{tasks: make(chan *asynq.Task, 4*parallel)}
	p.ctx, p.cancel = context.WithCancelCause(ctx)
	for range parallel {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for task := range p.tasks {
				if p.ctx.Err() != nil {
					continue // drain after a failure
				}
				_, err := q.EnqueueContext(p.ctx, task)
				switch {
				case err == nil:
					p.done.Add(1)
				case errors.Is(err, asynq.ErrTaskIDConflict):
					p.queued.Add(1)
				default:
					p.cancel(fmt.Errorf("enqueue %s: %w", task.Type(), err))
				}
			}
		}()
	}
	return p
}

// Add queues one task; it fails once an enqueue has failed.
func (p *Pipeline) Add(task *asynq.Task) error {
	select {
	case p.tasks <- task:
		return nil
	case <-p.ctx.Done():
		return context.Cause(p.ctx)
	}
}

// Close waits for the tasks added and returns how many were enqueued, how
// many were queued already, and the first error.
func (p *Pipeline) Close() (enqueued, queued int, err error) {
	close(p.tasks)
	p.wg.Wait()
	if cause := context.Cause(p.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	p.cancel(nil)
	return int(p.done.Load()), int(p.queued.Load()), err
}
