package workers

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
)

// ReconnectGraph is what planning a reconnection needs from the graph.
type ReconnectGraph interface {
	MemberInfo(ctx context.Context, member string) (*engine.MemberInfo, error)
	Reachable(ctx context.Context, q engine.MatchQuery, followers bool) ([]engine.Reconnection, error)
}

// ReconnectPlan says what a reconnection enqueued, per network.
type ReconnectPlan struct {
	Member   string                  `json:"member"`
	Networks map[string]*NetworkPlan `json:"networks"`
	DryRun   bool                    `json:"dry_run"`
}

// NetworkPlan is one network's part of a reconnection.
type NetworkPlan struct {
	Account string   `json:"account"`
	Targets int      `json:"targets"`
	Tasks   []string `json:"tasks"`   // task ids, to follow progress
	Skipped int      `json:"skipped"` // claimed links not allowed, or in conflict
}

// Reconnect enqueues the follow tasks of a member's pending reconnections
// (followings not yet followed) on network ("" for every network they use),
// limited to the trust levels their settings allow; links in conflict wait
// for the member's own click. Tasks are batches of FollowBatch targets with
// content-derived ids: running Reconnect twice enqueues nothing new.
func Reconnect(ctx context.Context, g ReconnectGraph, q *asynq.Client, member string, network engine.Network, dryRun bool) (*ReconnectPlan, error) {
	info, err := g.MemberInfo(ctx, member)
	if err != nil {
		return nil, err
	}
	plan := &ReconnectPlan{Member: member, Networks: map[string]*NetworkPlan{}, DryRun: dryRun}
	for n, account := range info.Accounts {
		if network != "" && n != network {
			continue
		}
		rows, err := g.Reachable(ctx, engine.MatchQuery{Member: member, Network: n}, false)
		if err != nil {
			return nil, err
		}
		np := &NetworkPlan{Account: account, Tasks: []string{}}
		plan.Networks[string(n)] = np
		allowed := info.AllowedTrusts()
		var targets []string
		for _, r := range rows {
			if r.Conflict || !contains(allowed, engine.Trust(r.Trust)) {
				np.Skipped++
				continue
			}
			targets = append(targets, r.Account)
		}
		np.Targets = len(targets)
		for start := 0; start < len(targets); start += FollowBatch {
			task, err := NewFollowTask(n, FollowPayload{Member: member, Account: account, Targets: targets[start:min(start+FollowBatch, len(targets))]})
			if err != nil {
				return nil, err
			}
			if dryRun {
				continue
			}
			info, err := q.EnqueueContext(ctx, task)
			switch {
			case errors.Is(err, asynq.ErrTaskIDConflict):
				continue // the same batch is already queued
			case err != nil:
				return nil, fmt.Errorf("enqueue follows: %w", err)
			}
			np.Tasks = append(np.Tasks, info.ID)
		}
	}
	if network != "" && len(plan.Networks) == 0 {
		return nil, engine.Errorf(engine.ENOTFOUND, "member %s has no %s account", member, network)
	}
	return plan, nil
}

func contains(ts []engine.Trust, t engine.Trust) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// Progress counts a reconnection's tasks by state: what a page (or the
// command line) shows while the follows are made.
type Progress struct {
	Tasks   int `json:"tasks"`
	Done    int `json:"done"`    // completed
	Failed  int `json:"failed"`  // archived after their retries
	Waiting int `json:"waiting"` // pending, scheduled, active or retrying
}

// ReconnectProgress reads the state of a plan's tasks. Deferred follows
// (out of budget) run in new tasks and are not counted here.
func ReconnectProgress(insp *asynq.Inspector, plan *ReconnectPlan) Progress {
	var p Progress
	for _, np := range plan.Networks {
		for _, id := range np.Tasks {
			p.Tasks++
			info, err := insp.GetTaskInfo(QueueDefault, id)
			switch {
			case err != nil:
				p.Done++ // retention over: it completed long ago
			case info.State == asynq.TaskStateCompleted:
				p.Done++
			case info.State == asynq.TaskStateArchived:
				p.Failed++
			default:
				p.Waiting++
			}
		}
	}
	return p
}
