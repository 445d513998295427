package flows

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// problemList returns the problems of an error as "path: message" lines.
func problemList(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ps *Problems
	require.True(t, errors.As(err, &ps), "error is %T, not *Problems: %v", err, err)
	out := make([]string, len(ps.List))
	for i, p := range ps.List {
		out[i] = p.String()
	}
	return out
}

func mustDecode(t testing.TB, src string) *Definition {
	t.Helper()
	def, err := Decode([]byte(src))
	require.NoError(t, err)
	return def
}

func mustCompile(t testing.TB, src string) *Program {
	t.Helper()
	prog, err := Compile(mustDecode(t, src))
	require.NoError(t, err)
	return prog
}

type scenario struct {
	name string
	data []byte
}

func scenarios(t testing.TB) []scenario {
	t.Helper()
	files, err := filepath.Glob("testdata/scenarios/*.json")
	require.NoError(t, err)
	require.Len(t, files, 6)
	out := make([]scenario, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out[i] = scenario{name: filepath.Base(f), data: b}
	}
	return out
}

// catalogEnv is a ValidateEnv with the actions, triggers and connections the
// scenarios use.
func catalogEnv() ValidateEnv {
	actions := map[string]bool{ // action -> needs a connection
		"segment.track": true, "segment.identify": true, "mailchimp.upsert_member": true,
		"mailchimp.add_tags": true, "slack.post_message": true, "jira.create_issue": true,
		"jira.transition_issue": true, "jira.add_comment": true, "email.send": true,
		"http.request": false, "mixpanel.track": true, "posthog.capture": true,
		"core.delay": false, "core.wait_for_event": false, "core.approval": false,
	}
	connections := map[string]bool{"<segment>": true, "<mailchimp>": true, "<slack>": true, "<jira>": true, "<smtp>": true}
	return ValidateEnv{
		ActionExists:          func(key string) bool { _, ok := actions[key]; return ok },
		ActionNeedsConnection: func(key string) bool { return actions[key] },
		ConnectionExists:      func(id string) bool { return connections[id] },
		TriggerExists:         func(typ string) bool { return typ == "slack.events" || typ == "jira.issue_updated" },
	}
}
