package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// newLoadClient is the load generator's HTTP client: keep-alive connections,
// enough idle slots for every worker, and a timeout so a stuck request shows
// as refused rather than hanging the bench.
func newLoadClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// hookSeq numbers every webhook the bench sends, so that no two carry the
// same event id (a server may derive an idempotency key from it).
var hookSeq atomic.Int64

// hookBody is a webhook of a realistic size (~400 bytes) that carries its send
// time in microseconds for the fake to measure webhook→call delay.
func hookBody(sent time.Time) []byte {
	seq := hookSeq.Add(1)
	return fmt.Appendf(nil, `{"sent_us":%d,"seq":%d,"event":"order.created","id":"evt_%08d",`+
		`"customer":{"id":"cus_%06d","email":"user%d@example.com","name":"Ada Lovelace","plan":"pro"},`+
		`"order":{"id":"ord_%08d","total":4200,"currency":"EUR","items":[{"sku":"SKU-1","qty":2},{"sku":"SKU-7","qty":1}]},`+
		`"source":"bench","note":"a webhook body of a few hundred bytes, like a typical SaaS event"}`,
		sent.UnixMicro(), seq, seq, seq%1000000, seq, seq)
}

// loadResult sums up one batch of requests.
type loadResult struct {
	Sent     int
	Accepted int            // 202 with a run id (or 200 for the peer)
	Refused  int            // any other status or a transport error
	Statuses map[int]int    // by status; 0 = transport error
	FirstErr string         // first refusal, for the log
	RunIDs   map[string]int // run id → times answered (must be 1)
	Start    time.Time
	End      time.Time // the last answer
	Latency  []time.Duration
}

func (r *loadResult) duration() time.Duration { return r.End.Sub(r.Start) }

func (r *loadResult) rate() float64 {
	if d := r.duration().Seconds(); d > 0 {
		return float64(r.Accepted) / d
	}
	return 0
}

type loadRecorder struct {
	mu sync.Mutex
	r  loadResult
}

func newRecorder() *loadRecorder {
	return &loadRecorder{r: loadResult{Statuses: map[int]int{}, RunIDs: map[string]int{}, Start: time.Now()}}
}

func (rec *loadRecorder) add(status int, runID string, err error, lat time.Duration, okStatus int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	r := &rec.r
	r.Sent++
	r.Statuses[status]++
	r.End = time.Now()
	if status == okStatus && err == nil {
		r.Accepted++
		r.Latency = append(r.Latency, lat)
		if runID != "" {
			r.RunIDs[runID]++
		}
		return
	}
	r.Refused++
	if r.FirstErr == "" {
		if err != nil {
			r.FirstErr = err.Error()
		} else {
			r.FirstErr = fmt.Sprintf("status %d", status)
		}
	}
}

// post sends one webhook and returns the status and the run id of a 202.
func post(ctx context.Context, c *http.Client, url string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	var out struct {
		RunID *string `json:"run_id"`
	}
	if resp.StatusCode == http.StatusAccepted {
		if err := json.Unmarshal(b, &out); err != nil {
			return resp.StatusCode, "", fmt.Errorf("202 with a body that is not JSON: %q", b)
		}
		if out.RunID == nil {
			return resp.StatusCode, "", fmt.Errorf("202 without a run id: %s", b)
		}
		return resp.StatusCode, *out.RunID, nil
	}
	return resp.StatusCode, "", nil
}

// closedLoop sends webhooks from conns workers, each waiting for its answer
// before sending the next, until n were sent (n > 0) or until the deadline
// (non-zero).
func closedLoop(ctx context.Context, c *http.Client, url string, conns, n int, deadline time.Time, okStatus int) loadResult {
	rec := newRecorder()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1))
				if n > 0 && i > n {
					return
				}
				if !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				sent := time.Now()
				status, runID, err := post(ctx, c, url, hookBody(sent))
				rec.add(status, runID, err, time.Since(sent), okStatus)
			}
		}()
	}
	wg.Wait()
	return rec.r
}

// openLoop sends rate webhooks per second for d, each on its own goroutine,
// whatever the server's answers take (so a slow server cannot slow the
// arrivals down and hide its latency).
func openLoop(ctx context.Context, c *http.Client, url string, rate int, d time.Duration, okStatus int) loadResult {
	rec := newRecorder()
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	total := int(d / interval)
	for i := 0; i < total && ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			status, runID, err := post(ctx, c, url, hookBody(sent))
			rec.add(status, runID, err, time.Since(sent), okStatus)
		}()
	}
	wg.Wait()
	return rec.r
}

// percentile returns the p-th percentile (0–100) by nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p/100+0.5) - 1
	i = min(max(i, 0), len(s)-1)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
