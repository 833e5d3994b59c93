package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/passerelle-social/passerelle/engine"
	"github.com/passerelle-social/passerelle/i18n"
)

// Task types of arrival digests.
const (
	TypeNotifySweep  = "notify:sweep"
	TypeNotifyDigest = "notify:digest"
)

// NotifySweepEvery is how often the scheduler looks for digests due.
const NotifySweepEvery = time.Hour

// DigestLines is the most arrivals a digest names; the rest are counted.
// Bluesky chat messages hold at most 1,000 characters.
const DigestLines = 12

// NewNotifySweepTask returns the periodic sweep.
func NewNotifySweepTask() *asynq.Task {
	return asynq.NewTask(TypeNotifySweep, nil, asynq.Queue(QueueLow), asynq.MaxRetry(3),
		asynq.Unique(NotifySweepEvery-time.Minute), asynq.Timeout(10*time.Minute))
}

// NewDigestTask returns a member's digest task. Its id names the member,
// their last digest and the day: two sweeps before it runs enqueue it
// once, and a digest that failed for good is tried again the next day.
func NewDigestTask(d engine.DueDigest, now time.Time) (*asynq.Task, error) {
	last := int64(0)
	if !d.Last.IsZero() {
		last = d.Last.Unix()
	}
	id := fmt.Sprintf("%s:%s:%d:%s", TypeNotifyDigest, d.Member, last, now.UTC().Format("20060102"))
	b, err := json.Marshal(DigestPayload{Member: d.Member, Digest: id})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeNotifyDigest, b, asynq.TaskID(id), asynq.Queue(QueueLow),
		asynq.MaxRetry(5), asynq.Timeout(5*time.Minute), asynq.Retention(48*time.Hour)), nil
}

// DigestPayload names a member and their digest; the digest id marks the
// announcements it takes, so a retry finds them.
type DigestPayload struct {
	Member string `json:"member"`
	Digest string `json:"digest"`
}

// DigestGraph is what digests need from the graph.
type DigestGraph interface {
	MemberInfo(ctx context.Context, member string) (*engine.MemberInfo, error)
	DigestsDue(ctx context.Context, now time.Time) ([]engine.DueDigest, error)
	ClaimDigest(ctx context.Context, member, digest string) ([]engine.Announcement, error)
	FinishDigest(ctx context.Context, member, digest, state string) error
}

// Channel sends a direct message on one network from Passerelle's bot
// account: a Mastodon direct status, a Bluesky chat message.
type Channel struct {
	Send func(ctx context.Context, to, text string) error
	// Permanent reports an error that will not change on retry (the
	// recipient does not accept messages from the bot).
	Permanent func(error) bool
}

// Notifier runs notify:sweep and notify:digest.
type Notifier struct {
	Graph    DigestGraph
	Texts    *i18n.Catalog
	Channels map[engine.Network]Channel // networks with no bot are absent
	URL      string                     // the web UI, named in every digest
	Enqueuer *asynq.Client
	Log      *slog.Logger
	Now      func() time.Time
}

// Sweep is the notify:sweep handler: a digest task for each member whose
// digest is due.
func (n *Notifier) Sweep(ctx context.Context, t *asynq.Task) error {
	now := n.Now()
	due, err := n.Graph.DigestsDue(ctx, now)
	if err != nil {
		return err
	}
	for _, d := range due {
		task, err := NewDigestTask(d, now)
		if err != nil {
			return err
		}
		if _, err := n.Enqueuer.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("%s: %w", TypeNotifySweep, err)
		}
	}
	return nil
}

// DigestOutcome is a digest task's result.
type DigestOutcome struct {
	Channel engine.Network `json:"channel,omitempty"`
	Sent    int            `json:"sent"`    // arrivals named in the message
	Resumed int            `json:"resumed"` // taken before a crash: not sent again
	Dropped string         `json:"dropped,omitempty"`
}

// Digest is the notify:digest handler. It takes the member's waiting
// announcements, sends one message naming them on the member's channel,
// in their language, and marks them sent: each arrival is announced at
// most once. A member who withdrew consent, or has no channel with a bot,
// gets nothing and their announcements are dropped.
func (n *Notifier) Digest(ctx context.Context, t *asynq.Task) error {
	var p DigestPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Member == "" || p.Digest == "" {
		return fmt.Errorf("%s payload: %v: %w", TypeNotifyDigest, err, asynq.SkipRetry)
	}
	out, err := n.digest(ctx, p.Member, p.Digest)
	if w := t.ResultWriter(); w != nil {
		b, _ := json.Marshal(out)
		_, _ = w.Write(b)
	}
	return err
}

func (n *Notifier) digest(ctx context.Context, member, digest string) (DigestOutcome, error) {
	var out DigestOutcome
	info, err := n.Graph.MemberInfo(ctx, member)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return out, nil // deleted: their announcements went with them
	}
	if err != nil {
		return out, err
	}
	anns, err := n.Graph.ClaimDigest(ctx, member, digest)
	if err != nil {
		return out, err
	}
	drop := func(why string) (DigestOutcome, error) {
		out.Dropped = why
		n.Log.Info("digest dropped", "member", member, "why", why, "arrivals", len(anns))
		return out, n.Graph.FinishDigest(ctx, member, digest, "dropped")
	}
	channel := info.Channel()
	ch, ok := n.Channels[channel]
	switch {
	case !info.NotifyArrivals:
		return drop("no consent")
	case channel == "":
		return drop("no account to write to")
	case !ok:
		return drop("no bot on " + string(channel))
	}
	out.Channel = channel
	var fresh []engine.Announcement
	for _, a := range anns {
		if a.Resumed {
			out.Resumed++
		} else {
			fresh = append(fresh, a)
		}
	}
	if out.Resumed > 0 {
		n.Log.Warn("digest resumed after a crash: its arrivals may have been announced, they are not sent again",
			"member", member, "digest", digest, "arrivals", out.Resumed)
	}
	if len(fresh) > 0 {
		text := DigestText(n.Texts.For(info.Locale), fresh, n.URL)
		if err := ch.Send(ctx, info.Accounts[channel], text); err != nil {
			if ch.Permanent != nil && ch.Permanent(err) {
				return drop(err.Error())
			}
			// Certainly not sent: the announcements wait for the retry.
			if ferr := n.Graph.FinishDigest(ctx, member, digest, "pending"); ferr != nil {
				return out, ferr
			}
			return out, fmt.Errorf("%s to %s on %s: %w", TypeNotifyDigest, member, channel, err)
		}
		out.Sent = len(fresh)
	}
	if len(anns) == 0 {
		return out, nil
	}
	n.Log.Info("digest sent", "member", member, "channel", channel, "arrivals", out.Sent)
	return out, n.Graph.FinishDigest(ctx, member, digest, "sent")
}

// DigestText is a digest's message: a line per arrival (at most
// DigestLines, the rest counted), and where to see them.
func DigestText(tx i18n.Texts, anns []engine.Announcement, url string) string {
	var b strings.Builder
	b.WriteString(tx.N("digest.intro", len(anns), nil))
	b.WriteString("\n")
	for i, a := range anns {
		if i == DigestLines {
			b.WriteString(tx.N("digest.more", len(anns)-i, nil))
			b.WriteString("\n")
			break
		}
		key := "digest.line"
		if a.Followed {
			key = "digest.line.followed"
		}
		xname := a.Username
		if xname == "" {
			xname = a.XID
		}
		b.WriteString("• ")
		b.WriteString(tx.T(key, map[string]any{"Name": a.Name(), "Network": tx.T("network."+string(a.Network), nil), "XName": xname}))
		b.WriteString("\n")
	}
	b.WriteString(tx.T("digest.outro", map[string]any{"URL": url}))
	return b.String()
}
