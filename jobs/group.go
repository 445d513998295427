package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// group gathers concurrent requests into batches (group commit): while
// `limit` batches are being handled, newly added items wait and go together
// into the next one. An idle group handles an item at once, alone.
//
// handle writes a batch and records each item's own result in it; the error
// it returns settles every item of the batch. When a batch of several fails,
// each item is handled again alone, so that one bad item cannot fail the
// others.
type group[T groupItem] struct {
	name            string
	limit, maxBatch int
	handle          func(ctx context.Context, batch []T) error
	log             *slog.Logger

	mu      sync.Mutex
	waiting []T
	running int
}

// groupItem is an item of a group: a pointer to a struct that embeds waiter.
type groupItem interface {
	start()
	settle(err error)
	wait() error
}

// waiter lets a caller wait for its item's batch.
type waiter struct {
	done chan struct{}
	err  error
}

func (w *waiter) start()           { w.done = make(chan struct{}) }
func (w *waiter) settle(err error) { w.err = err; close(w.done) }
func (w *waiter) wait() error      { <-w.done; return w.err }

// groupTimeout bounds the handling of one batch.
const groupTimeout = 30 * time.Second

func newGroup[T groupItem](name string, limit, maxBatch int, log *slog.Logger, handle func(ctx context.Context, batch []T) error) *group[T] {
	return &group[T]{name: name, limit: limit, maxBatch: maxBatch, log: log, handle: handle}
}

// do queues an item and returns its error once its batch is handled.
func (g *group[T]) do(item T) error {
	item.start()
	g.mu.Lock()
	g.waiting = append(g.waiting, item)
	start := g.running < g.limit
	if start {
		g.running++
	}
	g.mu.Unlock()
	if start {
		go g.loop()
	}
	return item.wait()
}

// loop handles waiting items batch by batch until none is left.
func (g *group[T]) loop() {
	for {
		g.mu.Lock()
		n := min(len(g.waiting), g.maxBatch)
		if n == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		batch := make([]T, n)
		copy(batch, g.waiting)
		g.waiting = g.waiting[n:]
		if len(g.waiting) == 0 {
			g.waiting = nil // let the backing array go
		}
		g.mu.Unlock()
		g.run(batch)
	}
}

func (g *group[T]) run(batch []T) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	err := g.handle(ctx, batch)
	if err != nil && len(batch) > 1 {
		g.log.Warn("group commit failed; handling its items one by one", "group", g.name, "items", len(batch), "err", err)
		for _, item := range batch {
			item.settle(g.handle(ctx, []T{item}))
		}
		return
	}
	for _, item := range batch {
		item.settle(err)
	}
}
