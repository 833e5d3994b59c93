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

// MastodonWindows are the usual limits of a Mastodon instance, per
// account: 300 requests in 5 minutes. The instance's own X-RateLimit-*
// headers, read by networks/mastodon, come on top.
var MastodonWindows = []Window{{5 * time.Minute, 300}}

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

// takeScript grants up to ARGV[2] units of ARGV[1] points each, as many as
// every window has room for, and takes their points from every window.
//
// KEYS: one counter per window, for the current window of each.
// ARGV[1]: the points of one unit (a follow); ARGV[2]: the units wanted.
// ARGV[2k+1], ARGV[2k+2] (k = 1..#KEYS): window k's capacity, and the
// milliseconds left until window k ends (the counter's expiry).
// Returns {granted, wait}: the units granted, and when none could be, the
// milliseconds until the windows that are full have ended.
var takeScript = redis.NewScript(`
local unit = tonumber(ARGV[1])
local granted = tonumber(ARGV[2])
local wait = 0
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[2 * i + 1])
  local used = tonumber(redis.call('GET', key) or '0')
  local room = math.floor((cap - used) / unit)
  if room < 1 then
    room = 0
    local left = tonumber(ARGV[2 * i + 2])
    if left > wait then wait = left end
  end
  if room < granted then granted = room end
end
if granted == 0 then return {0, wait} end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, granted * unit)
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 2]) + 1000)
end
return {granted, 0}
`)

// Take grants up to n units of unit points from the account's windows, as
// many as they all have room for, and takes their points. When none fits
// it takes nothing and says how long to wait: the caller reschedules the
// rest of its work for then, without failing.
func (b *Budget) Take(ctx context.Context, account string, windows []Window, unit int64, n int) (int, time.Duration, error) {
	now := b.now()
	keys := make([]string, len(windows))
	args := []any{unit, n}
	for i, w := range windows {
		start := now.Truncate(w.Length)
		keys[i] = fmt.Sprintf("%s:%s:%d:%d", b.prefix, account, w.Length/time.Second, start.Unix())
		capacity := int64(float64(w.Points) * (1 - b.Margin))
		if unit > capacity {
			return 0, 0, fmt.Errorf("budget: %d points never fit a window of %d", unit, capacity)
		}
		args = append(args, capacity, start.Add(w.Length).Sub(now).Milliseconds())
	}
	res, err := takeScript.Run(ctx, b.rdb, keys, args...).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("budget: %w", err)
	}
	return int(res[0]), time.Duration(res[1]) * time.Millisecond, nil
}
