package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// flowsGen counts this process's writes to flows: every store function that
// changes what FlowByWebhookToken answers bumps it, so that a HookFlows cache
// drops its answers at once.
var flowsGen atomic.Uint64

func flowsChanged() { flowsGen.Add(1) }

// HookFlows caches FlowByWebhookToken for webhook ingest, the hottest read:
// one query less per webhook. An answer is kept for at most ttl, and none
// survives a change to flows made through this package in this process; a
// change made by another process (a second `web`) reaches this one within ttl.
type HookFlows struct {
	db  DB
	ttl time.Duration

	mu  sync.Mutex
	gen uint64
	m   map[string]hookEntry
}

type hookEntry struct {
	flow Flow
	err  error
	at   time.Time
}

// hookFlowsMax bounds the cache (tokens that do not exist are cached too).
const hookFlowsMax = 10000

// NewHookFlows returns a cache over db; ttl <= 0 caches nothing.
func NewHookFlows(db DB, ttl time.Duration) *HookFlows {
	return &HookFlows{db: db, ttl: ttl, m: map[string]hookEntry{}}
}

// Flow answers like FlowByWebhookToken, from the cache when it can.
func (h *HookFlows) Flow(ctx context.Context, token string) (Flow, error) {
	if h.ttl <= 0 {
		return FlowByWebhookToken(ctx, h.db, token)
	}
	gen := flowsGen.Load()
	now := time.Now()
	h.mu.Lock()
	if h.gen != gen {
		clear(h.m)
		h.gen = gen
	}
	e, ok := h.m[token]
	h.mu.Unlock()
	if ok && now.Sub(e.at) < h.ttl {
		return e.flow, e.err
	}
	f, err := FlowByWebhookToken(ctx, h.db, token)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return f, err // not cached
	}
	h.mu.Lock()
	if h.gen == gen { // nothing changed meanwhile
		if len(h.m) >= hookFlowsMax {
			clear(h.m)
		}
		h.m[token] = hookEntry{flow: f, err: err, at: now}
	}
	h.mu.Unlock()
	return f, err
}
