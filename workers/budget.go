package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Window is one rate limit: at most Points in each fixed window of Length.
type Window struct {
	Length time.Duration
	Points int64
}

// BlueskyWindows are the PDS's write limits for one account: 5,000 points
// an hour and 35,000 a day, a created record costing 3 points.
var BlueskyWindows = []Window{{time.Hour, 5000}, {24 * time.Hour, 35000}}

// BlueskyFollowCost is the points one follow record costs.
const BlueskyFollowCost = 3

// Budget keeps per-account rate budgets in Redis, shared by every worker
// process, so that the accounts' limits hold whatever the number of workers.
type Budget struct {
	rdb    *redis.Client
	prefix string
	// Margin keeps this share of every window unused (0.1 = 10%), for the
	// account's own activity and for clock skew with the server.
	Margin float64
	now    func() time.Time
}

// NewBudget returns a Budget on rdb; keys start with prefix.
func NewBudget(rdb *redis.Client, prefix string, margin float64) *Budget {
	return &Budget{rdb: rdb, prefix: prefix, Margin: margin, now: time.Now}
}

// takeScript takes ARGV[1] points from every window, or none.
//
// KEYS: one counter per window, for the current window of each.
// ARGV[1]: the points to take.
// ARGV[2k], ARGV[2k+1] (k = 1..#KEYS): window k's capacity, and the
// milliseconds left until window k ends (the counter's expiry).
// Returns 0 when the points were taken, or the milliseconds to wait until
// the first full window ends.
var takeScript = redis.NewScript(`
local cost = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2 * i])
  local used = tonumber(redis.call('GET', key) or '0')
  if used + cost > cap then
    local left = tonumber(ARGV[2 * i + 1])
    if left > wait then wait = left end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, cost)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 1]) + 1000)
end
return 0
`)

// Take takes cost points from the account's windows. When a window is too
// full it takes nothing and returns how long to wait for that window to
// end: the caller reschedules its task for then, without failing it.
func (b *Budget) Take(ctx context.Context, account string, windows []Window, cost int64) (time.Duration, error) {
	now := b.now()
	keys := make([]string, len(windows))
	args := []any{cost}
	for i, w := range windows {
		start := now.Truncate(w.Length)
		keys[i] = fmt.Sprintf("%s:%s:%d:%d", b.prefix, account, w.Length/time.Second, start.Unix())
		capacity := int64(float64(w.Points) * (1 - b.Margin))
		if cost > capacity {
			return 0, fmt.Errorf("budget: %d points never fit a window of %d", cost, capacity)
		}
		args = append(args, capacity, start.Add(w.Length).Sub(now).Milliseconds())
	}
	wait, err := takeScript.Run(ctx, b.rdb, keys, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("budget: %w", err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}
