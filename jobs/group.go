package jobs

import "sync"

// group gathers concurrent requests into batches (group commit): while
// `limit` batches are being handled, newly added items wait and go together
// into the next one. An idle group handles an item at once, alone. Items
// report their own completion (a channel in T, say).
type group[T any] struct {
	limit, maxBatch int
	handle          func(batch []T)

	mu      sync.Mutex
	waiting []T
	running int
}

func newGroup[T any](limit, maxBatch int, handle func(batch []T)) *group[T] {
	return &group[T]{limit: limit, maxBatch: maxBatch, handle: handle}
}

// add queues an item; it returns at once.
func (g *group[T]) add(item T) {
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
		g.handle(batch)
	}
}
