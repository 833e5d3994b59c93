package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/workers"
)

// --- reconnections -------------------------------------------------------

// reconnections is the reconnections page's content for one network.
type reconnections struct {
	Network   string                `json:"network"`
	Networks  []string              `json:"networks"` // the member's networks, for the tabs
	Rows      []engine.Reconnection `json:"rows"`
	Pending   int                   `json:"pending"` // not followed yet, allowed for auto-follow
	Allowed   []engine.Trust        `json:"allowed"`
	Progress  *workers.Progress     `json:"progress,omitempty"`
	Total     int                   `json:"total"`  // rows in all pages
	Offset    int                   `json:"offset"` // of this page
	Limit     int                   `json:"limit"`
	Prev      int                   `json:"-"` // offsets of the pages around, -1 when none
	Next      int                   `json:"-"`
	Dismissed []engine.Reconnection `json:"dismissed"` // to bring back
	// Labels are the row's words, translated once per page rather than
	// once per row: trust levels, conflict, followed, waiting, dismiss.
	Labels map[string]string `json:"-"`
}

// RowsPerPage is how many reconnections a page shows (the API's default
// limit; it allows up to 1,000).
const RowsPerPage = 100

// SnapshotTTL is how long a member's reconnections, once read, serve
// their next pages and reloads. The member's own actions drop it at once;
// follows made meanwhile by the workers show within this delay.
const SnapshotTTL = 2 * time.Second

// snapshot is what one member's reconnections page read from the graph.
type snapshot struct {
	at   time.Time
	info *engine.MemberInfo
	rows map[string][]engine.Reconnection // by network
	mu   sync.Mutex
}

// snapshotOf returns the member's fresh snapshot, or a new empty one.
func (w *Web) snapshotOf(member string) *snapshot {
	if v, ok := w.snaps.Load(member); ok {
		if sn := v.(*snapshot); time.Since(sn.at) < SnapshotTTL {
			return sn
		}
	}
	if w.snapCount.Add(1)%4096 == 0 {
		// Now and then, drop the stale ones: memory stays bounded by the
		// members active in the last seconds.
		w.snaps.Range(func(k, v any) bool {
			if time.Since(v.(*snapshot).at) >= SnapshotTTL {
				w.snaps.Delete(k)
			}
			return true
		})
	}
	sn := &snapshot{at: time.Now(), rows: map[string][]engine.Reconnection{}}
	w.snaps.Store(member, sn)
	return sn
}

// forget drops a member's snapshot: they changed something.
func (w *Web) forget(member string) { w.snaps.Delete(member) }

func (w *Web) reconnectionsOf(c *gin.Context) (*reconnections, error) {
	s, _ := sessionOf(c)
	ctx := c.Request.Context()
	sn := w.snapshotOf(s.Member)
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.info == nil {
		info, err := w.Store.MemberInfo(ctx, s.Member)
		if err != nil {
			return nil, err
		}
		sn.info = info
	}
	info := sn.info
	tx := textsOf(c)
	out := &reconnections{Allowed: info.AllowedTrusts(), Rows: []engine.Reconnection{}, Labels: map[string]string{
		"verified": tx.T("trust.verified", nil), "claimed": tx.T("trust.claimed", nil), "evidence": tx.T("trust.evidence", nil),
		"conflict": tx.T("trust.conflict", nil), "followed": tx.T("rec.followed", nil), "waiting": tx.T("rec.waiting", nil),
		"dismiss": tx.T("rec.dismiss_short", nil)}}
	for _, n := range []engine.Network{engine.Bluesky, engine.Mastodon} {
		if info.Accounts[n] != "" {
			out.Networks = append(out.Networks, string(n))
		}
	}
	out.Network = c.Query("network")
	if !slices.Contains(out.Networks, out.Network) {
		out.Network = ""
		if len(out.Networks) > 0 {
			out.Network = out.Networks[0]
		}
	}
	if out.Network == "" {
		return out, nil
	}
	if d, ok := sn.rows["dismissed:"+out.Network]; ok {
		out.Dismissed = d
	} else {
		d, err := w.Store.Dismissed(ctx, s.Member, engine.Network(out.Network))
		if err != nil {
			return nil, err
		}
		sn.rows["dismissed:"+out.Network], out.Dismissed = d, d
	}
	rows, ok := sn.rows[out.Network]
	if !ok {
		var err error
		rows, err = w.Store.Reachable(ctx, engine.MatchQuery{Member: s.Member, Network: engine.Network(out.Network), IncludeFollowed: true}, false)
		if err != nil {
			return nil, err
		}
		sn.rows[out.Network] = rows
	}
	for _, r := range rows {
		if !r.Followed && !r.Conflict && slices.Contains(out.Allowed, engine.Trust(r.Trust)) {
			out.Pending++
		}
	}
	out.Total, out.Limit = len(rows), RowsPerPage
	out.Offset, _ = strconv.Atoi(c.Query("offset"))
	if l, err := strconv.Atoi(c.Query("limit")); err == nil && l > 0 {
		out.Limit = min(l, 1000)
	}
	out.Offset = max(0, min(out.Offset, len(rows)))
	out.Rows = engine.Page(rows, out.Offset, out.Limit)
	out.Prev, out.Next = -1, -1
	if out.Offset > 0 {
		out.Prev = max(0, out.Offset-out.Limit)
	}
	if out.Offset+out.Limit < len(rows) {
		out.Next = out.Offset + out.Limit
	}
	if p, err := w.progress(ctx, s.Member); err == nil && p != nil {
		out.Progress = p
	}
	return out, nil
}

func (w *Web) reconnectionsData(c *gin.Context) (any, error) { return w.reconnectionsOf(c) }

func (w *Web) apiReconnections(c *gin.Context) {
	r, err := w.reconnectionsOf(c)
	if err != nil {
		w.error(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

func planKey(member string) string { return "passerelle:plan:" + member }

// progress reads the state of the member's last reconnection run.
func (w *Web) progress(ctx context.Context, member string) (*workers.Progress, error) {
	b, err := w.Redis.Get(ctx, planKey(member)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var plan workers.ReconnectPlan
	if err := json.Unmarshal(b, &plan); err != nil {
		return nil, err
	}
	p := workers.ReconnectProgress(w.Inspector, &plan)
	return &p, nil
}

func (w *Web) apiProgress(c *gin.Context) {
	s, _ := sessionOf(c)
	p, err := w.progress(c.Request.Context(), s.Member)
	if err != nil {
		w.error(c, err)
		return
	}
	if p == nil {
		p = &workers.Progress{}
	}
	if p.Tasks > 0 && p.Waiting == 0 {
		w.forget(s.Member) // the run is over: the next page shows its follows
	}
	c.JSON(http.StatusOK, p)
}

// follow queues follows: "all" takes every pending reconnection of the
// network that the member's trust settings allow; otherwise the accounts
// ticked, which must be among the member's reconnections (a ticked
// claimed or conflicting link is the member's own click, so it is
// allowed).
func (w *Web) follow(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	ctx := c.Request.Context()
	n, err := engine.ParseNetwork(c.PostForm("network"))
	if err != nil {
		w.error(c, err)
		return
	}
	info, err := w.Store.MemberInfo(ctx, s.Member)
	if err != nil {
		w.error(c, err)
		return
	}
	from := info.Accounts[n]
	if from == "" {
		w.error(c, engine.Errorf(engine.EINVALID, "you have no %s account here yet", n))
		return
	}
	rows, err := w.Store.Reachable(ctx, engine.MatchQuery{Member: s.Member, Network: n}, false)
	if err != nil {
		w.error(c, err)
		return
	}
	var targets []string
	if c.PostForm("all") != "" {
		allowed := info.AllowedTrusts()
		for _, r := range rows {
			if !r.Conflict && slices.Contains(allowed, engine.Trust(r.Trust)) {
				targets = append(targets, r.Account)
			}
		}
	} else {
		picked := c.PostFormArray("account")
		for _, r := range rows {
			if slices.Contains(picked, r.Account) {
				targets = append(targets, r.Account)
			}
		}
	}
	plan := &workers.ReconnectPlan{Member: s.Member, Networks: map[string]*workers.NetworkPlan{}}
	np := &workers.NetworkPlan{Account: from, Targets: len(targets), Tasks: []string{}}
	plan.Networks[string(n)] = np
	for start := 0; start < len(targets); start += workers.FollowBatch {
		task, err := workers.NewFollowTask(n, workers.FollowPayload{Member: s.Member, Account: from,
			Targets: targets[start:min(start+workers.FollowBatch, len(targets))]})
		if err != nil {
			w.error(c, err)
			return
		}
		ti, err := w.Queue.EnqueueContext(ctx, task)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			continue
		}
		if err != nil {
			w.error(c, err)
			return
		}
		np.Tasks = append(np.Tasks, ti.ID)
	}
	b, _ := json.Marshal(plan)
	if err := w.Redis.Set(ctx, planKey(s.Member), b, 7*24*time.Hour).Err(); err != nil {
		w.error(c, err)
		return
	}
	w.done(c, "/reconnections?network="+string(n)+"&notice=notice.queued", gin.H{"targets": len(targets), "tasks": np.Tasks})
}

// pause takes the member's queued follow tasks out of the queue; follows
// already made stay, and "reconnect all" picks up the rest later.
func (w *Web) pause(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	ctx := c.Request.Context()
	b, err := w.Redis.Get(ctx, planKey(s.Member)).Bytes()
	removed := 0
	if err == nil {
		var plan workers.ReconnectPlan
		if json.Unmarshal(b, &plan) == nil {
			for _, np := range plan.Networks {
				for _, id := range np.Tasks {
					if w.Inspector.DeleteTask(workers.QueueDefault, id) == nil {
						removed++
					}
				}
			}
		}
		w.Redis.Del(ctx, planKey(s.Member))
	}
	w.done(c, "/reconnections?notice=notice.paused", gin.H{"removed": removed})
}

// dismiss hides a reconnection for good (or brings it back with undo).
func (w *Web) dismiss(c *gin.Context) {
	s, _ := sessionOf(c)
	defer w.forget(s.Member)
	n, err := engine.ParseNetwork(c.PostForm("network"))
	if err != nil {
		w.error(c, err)
		return
	}
	undo := c.PostForm("undo") != ""
	account := c.PostForm("dismiss") // the row's button on the page
	if account == "" {
		account = c.PostForm("account")
	}
	if err := w.Store.Dismiss(c.Request.Context(), s.Member, n, account, !undo); err != nil {
		w.error(c, err)
		return
	}
	w.done(c, "/reconnections?network="+string(n), gin.H{"dismissed": !undo})
}
