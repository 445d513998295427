package flows

import (
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"
)

// ValidateEnv tells [Validate] what exists outside the definition: the
// connector catalog and the workspace's connections. A nil function means
// "do not check".
type ValidateEnv struct {
	// ActionExists reports whether an action key ("slack.post_message",
	// "core.delay") is in the catalog.
	ActionExists func(key string) bool
	// ActionNeedsConnection reports whether an action requires a connection.
	ActionNeedsConnection func(key string) bool
	// ConnectionExists reports whether a connection id exists in the
	// workspace.
	ConnectionExists func(id string) bool
	// TriggerExists reports whether a connector trigger type such as
	// "slack.events" exists. The built-in types (webhook, manual, schedule,
	// event) always exist.
	TriggerExists func(typ string) bool
}

var (
	stepIDRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	actionRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)
	triggerRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$`)
)

const (
	maxIDLength   = 64
	maxNameLength = 200
)

// Validate checks a definition and returns nil or a *[Problems] listing
// every problem by path, for example
//
//	steps[2].needs[0]: unknown step "sned"
//	steps: cycle through "a" → "b" → "a"
//
// It checks the trigger, step ids, actions and connections (through env),
// needs and cycles, retry and timeout settings, and compiles every
// expression and template exactly as [Compile] does, including checking
// that steps.<id> references point at steps upstream of where they are
// used.
func Validate(def *Definition, env ValidateEnv) error {
	_, ps := check(def, env)
	return ps.err()
}

// checker holds the state of one check of a definition.
type checker struct {
	def  *Definition
	env  ValidateEnv
	ps   *Problems
	prog *Program
	// ancestors maps a step id to the set of steps upstream of it; nil when
	// the graph is broken (unknown needs, cycles), in which case reference
	// checks are skipped.
	ancestors map[string]map[string]bool
	// ids holds every step id; firstIndex the index of its first step.
	ids        map[string]bool
	firstIndex map[string]int
}

// check validates def and compiles its program. The program is complete
// only when there are no problems.
func check(def *Definition, env ValidateEnv) (*Program, *Problems) {
	c := &checker{def: def, env: env, ps: &Problems{}, prog: &Program{steps: map[string]*stepProgram{}}}
	c.trigger()
	c.graph()
	for i := range def.Steps {
		c.step(i)
	}
	c.cycles()
	return c.prog, c.ps
}

func (c *checker) trigger() {
	t := &c.def.Trigger
	switch {
	case t.Type == "":
		c.ps.add("trigger.type", "required")
	case t.Type == TriggerWebhook || t.Type == TriggerManual || t.Type == TriggerSchedule || t.Type == TriggerEvent:
	case !triggerRE.MatchString(t.Type):
		c.ps.add("trigger.type", "unknown trigger type %q", t.Type)
	case c.env.TriggerExists != nil && !c.env.TriggerExists(t.Type):
		c.ps.add("trigger.type", "unknown trigger type %q", t.Type)
	}
	if t.If != "" {
		e, err := compileCondition(t.If, scopeTrigger)
		if err != nil {
			c.ps.add("trigger.if", "%s", err.Error())
		}
		c.prog.triggerIf = e
	}
	if t.IdempotencyKey != "" {
		e, err := compileExpr(t.IdempotencyKey, scopeTrigger)
		if err != nil {
			c.ps.add("trigger.idempotency_key", "%s", err.Error())
		}
		c.prog.idempotencyKey = e
	}
	if b := t.Batch; b != nil {
		switch {
		case b.Window <= 0:
			c.ps.add("trigger.batch.window", "required, a positive duration such as \"10m\"")
		case time.Duration(b.Window) > MaxBatchWindow:
			c.ps.add("trigger.batch.window", "must be at most %s", Duration(MaxBatchWindow))
		}
		if b.Max < 0 || b.Max > MaxBatchSize {
			c.ps.add("trigger.batch.max", "must be between 1 and %d (or omitted for no maximum)", MaxBatchSize)
		}
	}
}

// graph checks the step count and builds the upstream sets used to check
// steps.<id> references.
func (c *checker) graph() {
	steps := c.def.Steps
	switch {
	case len(steps) == 0:
		c.ps.add("steps", "at least one step is required")
	case len(steps) > MaxSteps:
		c.ps.add("steps", "at most %d steps are allowed (this flow has %d)", MaxSteps, len(steps))
	}
	c.ids = map[string]bool{}
	c.firstIndex = map[string]int{}
	for i, s := range steps {
		c.ids[s.ID] = true
		if _, ok := c.firstIndex[s.ID]; !ok {
			c.firstIndex[s.ID] = i
		}
	}
	if len(steps) > MaxSteps {
		return // too big to be worth analysing; the count is the problem
	}
	needs := ResolvedNeeds(c.def)
	seen := map[string]bool{}
	for _, s := range steps {
		if seen[s.ID] || !stepIDRE.MatchString(s.ID) {
			return // broken ids: the step checks report them
		}
		seen[s.ID] = true
		for _, n := range needs[s.ID] {
			if !c.ids[n] || n == s.ID {
				return
			}
		}
	}
	if _, err := TopologicalOrder(c.def); err != nil {
		return
	}
	c.ancestors = map[string]map[string]bool{}
	var up func(id string) map[string]bool
	up = func(id string) map[string]bool {
		if a, ok := c.ancestors[id]; ok {
			return a
		}
		a := map[string]bool{}
		for _, n := range needs[id] {
			a[n] = true
			for m := range up(n) {
				a[m] = true
			}
		}
		c.ancestors[id] = a
		return a
	}
	for _, s := range steps {
		up(s.ID)
	}
}

func (c *checker) cycles() {
	if len(c.def.Steps) > MaxSteps {
		return
	}
	order := make([]string, len(c.def.Steps))
	for i, s := range c.def.Steps {
		order[i] = s.ID
	}
	for _, cyc := range cycles(order, ResolvedNeeds(c.def)) {
		c.ps.add("steps", "%s", formatCycle(cyc))
	}
}

func (c *checker) step(i int) {
	s := &c.def.Steps[i]
	path := fmt.Sprintf("steps[%d]", i)
	sp := &stepProgram{}

	switch {
	case s.ID == "":
		c.ps.add(path+".id", "required")
	case !stepIDRE.MatchString(s.ID):
		c.ps.add(path+".id", "must match [a-z][a-z0-9_]* (got %q)", s.ID)
	case len(s.ID) > maxIDLength:
		c.ps.add(path+".id", "must be at most %d characters", maxIDLength)
	default:
		if j := c.firstIndex[s.ID]; j != i {
			c.ps.add(path+".id", "duplicate id %q (also steps[%d])", s.ID, j)
		}
	}
	if _, dup := c.prog.steps[s.ID]; !dup {
		c.prog.steps[s.ID] = sp
	}
	if utf8.RuneCountInString(s.Name) > maxNameLength {
		c.ps.add(path+".name", "must be at most %d characters", maxNameLength)
	}

	c.action(path, s.Action, s.Connection)

	if s.Needs != nil {
		seen := map[string]bool{}
		for j, n := range *s.Needs {
			np := fmt.Sprintf("%s.needs[%d]", path, j)
			switch {
			case n == s.ID:
				c.ps.add(np, "a step cannot need itself")
			case !c.ids[n]:
				c.ps.add(np, "unknown step %q", n)
			case seen[n]:
				c.ps.add(np, "duplicate need %q", n)
			}
			seen[n] = true
		}
	}

	if s.If != "" {
		e, err := compileCondition(s.If, scopeStep)
		if err != nil {
			c.ps.add(path+".if", "%s", err.Error())
		} else {
			c.refs(s.ID, path+".if", e.steps, false)
		}
		sp.cond = e
	}

	if r := s.Retry; r != nil {
		if r.MaxAttempts < 0 || r.MaxAttempts > MaxAttempts {
			c.ps.add(path+".retry.max_attempts", "must be between 1 and %d", MaxAttempts)
		}
		c.interval(path+".retry.initial_interval", r.InitialInterval, MaxRetryInterval)
		c.interval(path+".retry.max_interval", r.MaxInterval, MaxRetryInterval)
		if p := s.RetryPolicy(); r.InitialInterval > 0 && p.InitialInterval > p.MaxInterval {
			c.ps.add(path+".retry.initial_interval", "must not be longer than max_interval (%s)", p.MaxInterval)
		}
	}
	c.interval(path+".timeout", s.Timeout, MaxTimeout)

	sp.input = c.input(s.ID, path+".input", s.Input, scopeStep)
	if s.Undo != nil {
		up := path + ".undo"
		if s.Undo.Action == "" {
			c.ps.add(up+".action", "required")
		} else {
			c.action(up, s.Undo.Action, s.Undo.Connection)
		}
		sp.undo = c.input(s.ID, up+".input", s.Undo.Input, scopeUndo)
	}

	switch s.Action {
	case ActionDelay:
		c.delay(path, s)
	case ActionWaitForEvent:
		sp.match = c.waitForEvent(path, s)
	}
}

// action checks an action key and its connection (for a step or its undo).
func (c *checker) action(path, action, connection string) {
	switch {
	case action == "":
		c.ps.add(path+".action", "required")
		return
	case !actionRE.MatchString(action):
		c.ps.add(path+".action", "unknown action %q (actions look like connector.action)", action)
		return
	case c.env.ActionExists != nil && !c.env.ActionExists(action):
		c.ps.add(path+".action", "unknown action %q", action)
		return
	}
	switch {
	case connection != "":
		if c.env.ConnectionExists != nil && !c.env.ConnectionExists(connection) {
			c.ps.add(path+".connection", "unknown connection %q", connection)
		}
	case c.env.ActionNeedsConnection != nil && c.env.ActionNeedsConnection(action):
		c.ps.add(path+".connection", "action %s needs a connection", action)
	}
}

func (c *checker) interval(path string, d Duration, limit time.Duration) {
	switch {
	case d < 0:
		c.ps.add(path, "must be a positive duration")
	case time.Duration(d) > limit:
		c.ps.add(path, "must be at most %s", Duration(limit))
	}
}

// input compiles the templates of an input object and checks their step
// references.
func (c *checker) input(stepID, path string, input map[string]any, sc scope) map[string]any {
	out := make(map[string]any, len(input))
	for _, k := range sortedKeys(input) {
		out[k] = compileValue(input[k], fieldPath(path, k), sc, c.ps, func(p string, steps []string) {
			c.refs(stepID, p, steps, sc == scopeUndo)
		})
	}
	return out
}

// refs checks that the steps an expression reads exist and are upstream of
// the step that reads them. An undo input may also read the step itself.
func (c *checker) refs(stepID, path string, steps []string, self bool) {
	for _, ref := range steps {
		switch {
		case !c.ids[ref]:
			c.ps.add(path, "unknown step %q in steps.%s", ref, ref)
		case c.ancestors == nil:
		case self && ref == stepID:
		case !c.ancestors[stepID][ref]:
			if ref == stepID {
				c.ps.add(path, "steps.%s is this step's own output; it is not available here", ref)
			} else {
				c.ps.add(path, "steps.%s is not upstream of this step (add it to needs)", ref)
			}
		}
	}
}

// delay checks core.delay's input: exactly one of "for" (a duration) and
// "until" (a time).
func (c *checker) delay(path string, s *Step) {
	forV, hasFor := s.Input["for"]
	_, hasUntil := s.Input["until"]
	switch {
	case hasFor && hasUntil:
		c.ps.add(path+".input", "core.delay takes either \"for\" or \"until\", not both")
	case !hasFor && !hasUntil:
		c.ps.add(path+".input", "core.delay needs \"for\" (a duration) or \"until\" (a time)")
	case hasFor:
		c.literalDuration(path+".input.for", forV)
	}
}

// waitForEvent checks core.wait_for_event's input and compiles its match.
func (c *checker) waitForEvent(path string, s *Step) *Expr {
	if ev, ok := s.Input["event"].(string); !ok || ev == "" {
		c.ps.add(path+".input.event", "core.wait_for_event needs the name of the event to wait for")
	}
	if t, ok := s.Input["timeout"]; ok {
		c.literalDuration(path+".input.timeout", t)
	}
	m, ok := s.Input["match"]
	if !ok {
		return nil
	}
	src, isString := m.(string)
	mp := path + ".input.match"
	switch {
	case !isString:
		c.ps.add(mp, "must be an expression (a string)")
		return nil
	case isTemplate(src):
		c.ps.add(mp, "is an expression; write it without {{ }}")
		return nil
	}
	e, err := compileCondition(src, scopeMatch)
	if err != nil {
		c.ps.add(mp, "%s", err.Error())
		return nil
	}
	c.refs(s.ID, mp, e.steps, false)
	return e
}

// literalDuration checks a duration given in an input, unless it is a
// template that only run time can check.
func (c *checker) literalDuration(path string, v any) {
	s, ok := v.(string)
	if !ok {
		c.ps.add(path, "must be a duration string such as \"24h\"")
		return
	}
	if isTemplate(s) {
		return
	}
	d, err := ParseDuration(s)
	switch {
	case err != nil:
		c.ps.add(path, "%s", err.Error())
	case d <= 0:
		c.ps.add(path, "must be a positive duration")
	}
}
