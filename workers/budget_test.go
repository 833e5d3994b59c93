package workers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/passerelle-social/passerelle/internal/testenv"
)

func TestBudgetHoldsAcrossConcurrentTakers(t *testing.T) {
	rdb := testenv.MustRedis(t)
	b := NewBudget(rdb, "test:budget", 0.1)
	clock := time.Date(2026, 11, 25, 10, 30, 30, 0, time.UTC)
	b.now = func() time.Time { return clock }
	windows := []Window{{time.Minute, 30}, {time.Hour, 100}}
	// 30 points a minute less 10%: 27, so nine 3-point follows a minute,
	// however many workers take at once.
	var mu sync.Mutex
	taken := 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				n, _, err := b.Take(context.Background(), "did:plc:alice", windows, 3, 1)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				taken += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if taken != 9 {
		t.Fatalf("%d follows taken in one minute, want 9", taken)
	}
	n, wait, _ := b.Take(context.Background(), "did:plc:alice", windows, 3, 5)
	if n != 0 || wait != 30*time.Second {
		t.Errorf("granted %d, wait %v, want none and the 30 s left in the minute", n, wait)
	}
	// Another account has its own budget; a large request gets what fits.
	if n, wait, _ := b.Take(context.Background(), "did:plc:bob", windows, 3, 50); n != 9 || wait != 0 {
		t.Errorf("bob: granted %d, wait %v, want 9 now", n, wait)
	}
	// The next minute refills the minute window; the hour (90 of 100 less
	// 10%) then binds.
	total := 9
	for m := 1; m <= 12; m++ {
		clock = clock.Add(time.Minute)
		for {
			n, _, _ := b.Take(context.Background(), "did:plc:alice", windows, 3, 1)
			if n == 0 {
				break
			}
			total += n
		}
	}
	if total != 30 {
		t.Errorf("%d follows in the hour, want 30 (90 points)", total)
	}
	if _, _, err := b.Take(context.Background(), "did:plc:alice", windows, 1000, 1); err == nil {
		t.Error("a cost larger than a window was accepted")
	}
}
