package flows

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the state of a step within a run.
type Status string

// Step statuses.
const (
	StatusPending   Status = "pending"   // not ready yet, or blocked behind a failed need
	StatusQueued    Status = "queued"    // its job is enqueued
	StatusRunning   Status = "running"   // an attempt is executing
	StatusWaiting   Status = "waiting"   // a delay, an event or an approval
	StatusSucceeded Status = "succeeded" // finished with an output
	StatusFailed    Status = "failed"    // finished with its last attempt failed
	StatusSkipped   Status = "skipped"   // its if was false, or all its needs were skipped
	StatusCancelled Status = "cancelled" // the run was cancelled before it finished
)

// IsFinished reports whether the status is final: succeeded, failed,
// skipped or cancelled. A failed step can still be retried by a person,
// which makes it pending again.
func (s Status) IsFinished() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusSkipped, StatusCancelled:
		return true
	}
	return false
}

// ResolvedNeeds returns, for every step id, the ids of the steps it waits
// for: its needs when given, the previous step when needs is omitted, and
// none (it follows the trigger) for the first step with needs omitted or any
// step with an empty needs list. In an invalid definition that repeats an
// id, the first step with the id wins.
func ResolvedNeeds(def *Definition) map[string][]string {
	out := make(map[string][]string, len(def.Steps))
	for i, s := range def.Steps {
		if _, dup := out[s.ID]; dup {
			continue
		}
		switch {
		case s.Needs != nil:
			out[s.ID] = append([]string{}, *s.Needs...)
		case i == 0:
			out[s.ID] = []string{}
		default:
			out[s.ID] = []string{def.Steps[i-1].ID}
		}
	}
	return out
}

// ErrCycle is returned by [TopologicalOrder] for a definition whose needs
// form a cycle.
var ErrCycle = errors.New("flows: the steps' needs form a cycle")

// TopologicalOrder returns the step ids so that every step comes after the
// steps it needs; among steps that could go next, the one earlier in the
// definition goes first. Needs that name no step are ignored.
func TopologicalOrder(def *Definition) ([]string, error) {
	needs := ResolvedNeeds(def)
	known := make(map[string]bool, len(def.Steps))
	for _, s := range def.Steps {
		known[s.ID] = true
	}
	placed := make(map[string]bool, len(def.Steps))
	order := make([]string, 0, len(def.Steps))
	for len(order) < len(known) {
		progress := false
		for _, s := range def.Steps {
			if placed[s.ID] {
				continue
			}
			ready := true
			for _, n := range needs[s.ID] {
				if known[n] && !placed[n] {
					ready = false
					break
				}
			}
			if ready {
				placed[s.ID] = true
				order = append(order, s.ID)
				progress = true
				break
			}
		}
		if !progress {
			return nil, ErrCycle
		}
	}
	return order, nil
}

// StepError is an error about one step, as returned by [Advance] when a
// step's condition cannot be evaluated.
type StepError struct {
	Step string // the step's id
	Err  error
}

// Error names the step and the underlying error.
func (e *StepError) Error() string { return fmt.Sprintf("step %q: %v", e.Step, e.Err) }

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

// Advance applies the readiness rule. status holds the current status of
// each step (a missing step is pending). For every pending step whose needs
// have all finished as succeeded or skipped:
//
//   - when it has needs and all of them were skipped, it is skipped;
//   - otherwise cond(stepID) decides (it evaluates the step's if and should
//     return true for a step without one): true runs it, false skips it.
//
// Skips cascade: a step skipped here counts as skipped for the steps after
// it. A failed or cancelled need leaves a step pending. run and skip are in
// definition order within each round of the cascade; status is not
// modified. A nil cond runs every ready step. An error from cond is returned
// as a *[StepError] naming the step.
func Advance(def *Definition, status map[string]Status, cond func(stepID string) (bool, error)) (run []string, skip []string, err error) {
	needs := ResolvedNeeds(def)
	st := make(map[string]Status, len(def.Steps))
	for _, s := range def.Steps {
		st[s.ID] = statusOf(status, s.ID)
	}
	for changed := true; changed; {
		changed = false
		for _, s := range def.Steps {
			if st[s.ID] != StatusPending {
				continue
			}
			ns := needs[s.ID]
			ready, allSkipped := true, len(ns) > 0
			for _, n := range ns {
				switch st[n] {
				case StatusSucceeded:
					allSkipped = false
				case StatusSkipped:
				default:
					ready = false
				}
			}
			if !ready {
				continue
			}
			changed = true
			if allSkipped {
				st[s.ID] = StatusSkipped
				skip = append(skip, s.ID)
				continue
			}
			ok := true
			if cond != nil {
				ok, err = cond(s.ID)
				if err != nil {
					return nil, nil, &StepError{Step: s.ID, Err: err}
				}
			}
			if ok {
				st[s.ID] = StatusQueued
				run = append(run, s.ID)
			} else {
				st[s.ID] = StatusSkipped
				skip = append(skip, s.ID)
			}
		}
	}
	return run, skip, nil
}

// RunFinished reports whether a run with these step statuses is over, and if
// so whether it succeeded. A run is over when every step has finished or is
// pending behind a failed or cancelled need (directly or through other such
// steps); nothing more will happen without a person retrying. It succeeded
// when it is over and no step failed, was cancelled, or is stuck behind one
// that did.
func RunFinished(def *Definition, status map[string]Status) (done bool, succeeded bool) {
	needs := ResolvedNeeds(def)
	blocked := make(map[string]bool, len(def.Steps))
	visiting := make(map[string]bool)
	var isBlocked func(id string) bool
	isBlocked = func(id string) bool {
		if b, ok := blocked[id]; ok {
			return b
		}
		if visiting[id] {
			return false
		}
		visiting[id] = true
		b := false
		if statusOf(status, id) == StatusPending {
			for _, n := range needs[id] {
				switch statusOf(status, n) {
				case StatusFailed, StatusCancelled:
					b = true
				case StatusPending:
					if _, known := needs[n]; known && isBlocked(n) {
						b = true
					}
				}
			}
		}
		blocked[id] = b
		return b
	}
	succeeded = true
	for _, s := range def.Steps {
		switch st := statusOf(status, s.ID); {
		case st == StatusFailed || st == StatusCancelled:
			succeeded = false
		case st.IsFinished():
		case st == StatusPending && isBlocked(s.ID):
			succeeded = false
		default:
			return false, false
		}
	}
	return true, succeeded
}

func statusOf(status map[string]Status, id string) Status {
	if s, ok := status[id]; ok && s != "" {
		return s
	}
	return StatusPending
}

// cycles finds the cycles of a needs graph: one per strongly connected
// component with more than one step, each written as the steps along it,
// starting and ending with the component's first step in definition order.
// Self-needs are not reported here.
func cycles(order []string, needs map[string][]string) [][]string {
	index := make(map[string]int, len(order))
	for i, id := range order {
		index[id] = i
	}
	// Tarjan's algorithm.
	var (
		counter int
		stack   []string
		onStack = map[string]bool{}
		num     = map[string]int{}
		low     = map[string]int{}
		comps   [][]string
	)
	var visit func(v string)
	visit = func(v string) {
		counter++
		num[v], low[v] = counter, counter
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range needs[v] {
			if _, ok := index[w]; !ok || w == v {
				continue
			}
			if num[w] == 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], num[w])
			}
		}
		if low[v] == num[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			if len(comp) > 1 {
				comps = append(comps, comp)
			}
		}
	}
	for _, id := range order {
		if num[id] == 0 {
			visit(id)
		}
	}
	var out [][]string
	for _, comp := range comps {
		in := map[string]bool{}
		start := comp[0]
		for _, id := range comp {
			in[id] = true
			if index[id] < index[start] {
				start = id
			}
		}
		// Shortest path from start back to start inside the component.
		prev := map[string]string{}
		queue := []string{start}
		seen := map[string]bool{start: true}
		var last string
	search:
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, w := range needs[v] {
				if !in[w] || w == v {
					continue
				}
				if w == start {
					last = v
					break search
				}
				if !seen[w] {
					seen[w] = true
					prev[w] = v
					queue = append(queue, w)
				}
			}
		}
		path := []string{start}
		for v := last; v != start; v = prev[v] {
			path = append(path, v)
		}
		// path is start, then the steps back from last; reverse the tail so
		// that it follows the needs edges.
		tail := path[1:]
		for i, j := 0, len(tail)-1; i < j; i, j = i+1, j-1 {
			tail[i], tail[j] = tail[j], tail[i]
		}
		out = append(out, append(path, start))
	}
	return out
}

func formatCycle(c []string) string {
	q := make([]string, len(c))
	for i, id := range c {
		q[i] = fmt.Sprintf("%q", id)
	}
	return "cycle through " + strings.Join(q, " → ")
}

// Upstream returns the ids of the steps that id transitively waits for, in
// definition order.
func Upstream(def *Definition, id string) []string {
	needs := ResolvedNeeds(def)
	seen := map[string]bool{}
	var walk func(string)
	walk = func(s string) {
		for _, n := range needs[s] {
			if !seen[n] {
				seen[n] = true
				walk(n)
			}
		}
	}
	walk(id)
	delete(seen, id)
	var out []string
	for _, s := range def.Steps {
		if seen[s.ID] {
			out = append(out, s.ID)
			delete(seen, s.ID)
		}
	}
	return out
}
