package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeTarget is the fast HTTP endpoint every benchmarked flow calls: it answers
// 200 with a small JSON body at once and records, per tag (the last path
// element of /hit/<tag>), how often each step was called and how long after
// the webhook was sent the first call of each run arrived.
type fakeTarget struct {
	URL string
	srv *http.Server

	mu   sync.Mutex
	tags map[string]*tagStats
}

type tagStats struct {
	calls int
	// keys counts calls per Idempotency-Key ("<run id>:<step id>").
	keys map[string]int
	// firstCall is the webhook→call delay of each run's first step (or of
	// every call that carries no idempotency key: the peer).
	firstCall []time.Duration
}

// firstSteps are the step ids that are a run's first connector call.
var firstSteps = map[string]bool{"call": true, "a": true}

var fakeAnswer = []byte(`{"ok":true,"id":"fake-1"}`)

func startFake() (*fakeTarget, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakeTarget{URL: "http://" + ln.Addr().String(), tags: map[string]*tagStats{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/hit/", f.hit)
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *fakeTarget) hit(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	tag := strings.TrimPrefix(r.URL.Path, "/hit/")
	key := r.Header.Get("Idempotency-Key")
	var body struct {
		SentUS json.Number `json:"sent_us"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	_ = json.Unmarshal(b, &body)
	var delay time.Duration = -1
	if us, err := strconv.ParseFloat(body.SentUS.String(), 64); err == nil && us > 0 {
		delay = now.Sub(time.UnixMicro(int64(us)))
	}

	f.mu.Lock()
	ts := f.tags[tag]
	if ts == nil {
		ts = &tagStats{keys: map[string]int{}}
		f.tags[tag] = ts
	}
	ts.calls++
	first := key == ""
	if key != "" {
		ts.keys[key]++
		_, step, _ := strings.Cut(key, ":")
		first = ts.keys[key] == 1 && firstSteps[step]
	}
	if first && delay >= 0 {
		ts.firstCall = append(ts.firstCall, delay)
	}
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(fakeAnswer)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(fakeAnswer)
}

// fakeCounts is a snapshot of one tag.
type fakeCounts struct {
	Calls     int
	Distinct  int            // distinct idempotency keys
	Duplicate int            // calls beyond the first per key
	Keys      map[string]int // copy
	FirstCall []time.Duration
}

func (f *fakeTarget) counts(tag string) fakeCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := f.tags[tag]
	if ts == nil {
		return fakeCounts{Keys: map[string]int{}}
	}
	c := fakeCounts{Calls: ts.calls, Distinct: len(ts.keys), Keys: make(map[string]int, len(ts.keys)),
		FirstCall: append([]time.Duration(nil), ts.firstCall...)}
	for k, n := range ts.keys {
		c.Keys[k] = n
		c.Duplicate += n - 1
	}
	return c
}

// calls is how many calls a tag received so far (cheap, for polling).
func (f *fakeTarget) calls(tag string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ts := f.tags[tag]; ts != nil {
		return ts.calls
	}
	return 0
}

func (f *fakeTarget) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
}
