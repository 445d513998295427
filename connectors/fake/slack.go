package fake

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// SlackChannel is a channel the Slack fake knows.
type SlackChannel struct {
	ID       string
	Name     string // without "#"
	Archived bool
	// NotMember makes posts answer not_in_channel.
	NotMember bool
}

// SlackMessage is a message the Slack fake accepted.
type SlackMessage struct {
	Channel  string // channel ID
	Text     string
	Blocks   []any
	ThreadTS string
	TS       string
}

// Slack is a fake of the Slack Web API (CONNECTORS.md §1.1) serving
// POST /api/chat.postMessage and /api/auth.test. Like Slack it takes the token
// as "Authorization: Bearer" or, with a form body, as the token parameter,
// answers HTTP 200 with {"ok":false,"error":…} for not_authed, invalid_auth,
// channel_not_found, not_in_channel, is_archived, no_text, msg_too_long and
// invalid_blocks, and 429 {"ok":false,"error":"ratelimited"} with Retry-After
// when rate limiting. JSON bodies without a charset get Slack's
// missing_charset warning. It starts with channels #general (C0000000001)
// and #signups (C0000000002).
type Slack struct {
	// URL is the server's root when started by NewSlack; the connector's
	// base_url is BaseURL() (URL + "/api").
	URL string
	// Token is the only token the fake accepts.
	Token string

	srv   *httptest.Server
	knobs svcKnobs

	mu       sync.Mutex
	channels []*SlackChannel
	messages []SlackMessage
	seq      int64
}

// slackMaxText is where Slack starts answering msg_too_long.
const slackMaxText = 40000

// NewSlack starts a fake Slack API on a loopback httptest server that
// accepts token. Close it when done.
func NewSlack(token string) *Slack {
	s := NewSlackHandler(token)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// NewSlackHandler returns the fake as an http.Handler without starting a
// server, for a dev command to serve on loopback; URL stays empty.
func NewSlackHandler(token string) *Slack {
	return &Slack{
		Token: token,
		channels: []*SlackChannel{
			{ID: "C0000000001", Name: "general"},
			{ID: "C0000000002", Name: "signups"},
		},
	}
}

// BaseURL returns the value for a connection's config.base_url.
func (s *Slack) BaseURL() string { return s.URL + "/api" }

// Close stops the server started by NewSlack.
func (s *Slack) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// AddChannel adds (or replaces) a channel.
func (s *Slack) AddChannel(ch SlackChannel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch.Name = strings.TrimPrefix(ch.Name, "#")
	for i, c := range s.channels {
		if c.ID == ch.ID {
			s.channels[i] = &ch
			return
		}
	}
	s.channels = append(s.channels, &ch)
}

// RateLimitNext makes the next n requests answer 429 with Retry-After of
// retryAfter (rounded up to whole seconds).
func (s *Slack) RateLimitNext(n int, retryAfter time.Duration) { s.knobs.rateLimitNext(n, retryAfter) }

// FailNext makes the next n requests (after any rate limiting) answer status
// with an HTML body, as Slack does for 5xx.
func (s *Slack) FailNext(n int, status int) { s.knobs.failNext(n, status) }

// Requests returns every request received, in order.
func (s *Slack) Requests() []CapturedRequest { return s.knobs.requests() }

// Messages returns the accepted messages, in order.
func (s *Slack) Messages() []SlackMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SlackMessage(nil), s.messages...)
}

// ServeHTTP implements http.Handler.
func (s *Slack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := s.knobs.record(w, r)
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if status, after := s.knobs.next(); status != 0 {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", svcSeconds(after))
			slackReply(w, status, map[string]any{"ok": false, "error": "ratelimited"})
			return
		}
		svcHTMLError(w, status)
		return
	}
	args, token, warning, errCode := slackArgs(r, body)
	if errCode != "" {
		slackFail(w, errCode)
		return
	}
	switch {
	case token == "":
		slackFail(w, "not_authed")
		return
	case token != s.Token:
		slackFail(w, "invalid_auth")
		return
	}
	var reply map[string]any
	switch method {
	case "auth.test":
		reply = map[string]any{
			"ok": true, "url": "https://fake-workspace.slack.com/", "team": "Fake Workspace",
			"user": "switchboard", "team_id": "T0000000001", "user_id": "U0000000001", "bot_id": "B0000000001",
		}
	case "chat.postMessage":
		reply, errCode = s.post(args)
		if errCode != "" {
			slackFail(w, errCode)
			return
		}
	default:
		slackReply(w, http.StatusNotFound, map[string]any{"ok": false, "error": "unknown_method"})
		return
	}
	if warning != "" {
		reply["warning"] = warning
		reply["response_metadata"] = map[string]any{"warnings": []string{warning}}
	}
	slackReply(w, http.StatusOK, reply)
}

// slackArgs reads the method arguments and the token from a JSON or form body.
func slackArgs(r *http.Request, body []byte) (args map[string]any, token, warning, errCode string) {
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = strings.TrimSpace(bearer)
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	args = map[string]any{}
	switch {
	case mt == "application/json":
		if params["charset"] == "" {
			warning = "missing_charset"
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &args); err != nil {
				return nil, "", "", "invalid_json"
			}
		}
	case mt == "application/x-www-form-urlencoded" || (mt == "" && r.Method == http.MethodGet):
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "", "", "invalid_form_data"
		}
		for k, v := range r.URL.Query() {
			values[k] = v
		}
		for k := range values {
			args[k] = values.Get(k)
		}
		if token == "" {
			token = values.Get("token")
		}
		if b, ok := args["blocks"].(string); ok && b != "" {
			var list any
			if json.Unmarshal([]byte(b), &list) != nil {
				return nil, "", "", "invalid_blocks_format"
			}
			args["blocks"] = list
		}
	case mt == "" && len(body) == 0:
	default:
		return nil, "", "", "invalid_post_type"
	}
	return args, token, warning, ""
}

// post handles chat.postMessage.
func (s *Slack) post(args map[string]any) (map[string]any, string) {
	channel, _ := args["channel"].(string)
	text, _ := args["text"].(string)
	threadTS, _ := args["thread_ts"].(string)
	var blocks []any
	if b, present := args["blocks"]; present && b != nil {
		list, ok := b.([]any)
		if !ok {
			return nil, "invalid_blocks_format"
		}
		for _, blk := range list {
			m, ok := blk.(map[string]any)
			if !ok || m["type"] == nil || m["type"] == "" {
				return nil, "invalid_blocks"
			}
		}
		blocks = list
	}
	if channel == "" {
		return nil, "channel_not_found"
	}
	if strings.TrimSpace(text) == "" && len(blocks) == 0 {
		return nil, "no_text"
	}
	if utf8.RuneCountInString(text) > slackMaxText {
		return nil, "msg_too_long"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.findChannel(channel)
	switch {
	case ch == nil:
		return nil, "channel_not_found"
	case ch.Archived:
		return nil, "is_archived"
	case ch.NotMember:
		return nil, "not_in_channel"
	}
	s.seq++
	ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), s.seq%1000000)
	s.messages = append(s.messages, SlackMessage{Channel: ch.ID, Text: text, Blocks: blocks, ThreadTS: threadTS, TS: ts})
	msg := map[string]any{
		"type": "message", "subtype": "bot_message", "text": text, "ts": ts,
		"username": "switchboard", "bot_id": "B0000000001",
	}
	if blocks != nil {
		msg["blocks"] = blocks
	}
	if threadTS != "" {
		msg["thread_ts"] = threadTS
	}
	return map[string]any{"ok": true, "channel": ch.ID, "ts": ts, "message": msg}, ""
}

// findChannel looks a channel up by ID or name (with or without "#"). The
// caller holds s.mu.
func (s *Slack) findChannel(ref string) *SlackChannel {
	name := strings.TrimPrefix(ref, "#")
	for _, c := range s.channels {
		if c.ID == ref || c.Name == name {
			return c
		}
	}
	return nil
}

func slackFail(w http.ResponseWriter, code string) {
	slackReply(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

func slackReply(w http.ResponseWriter, status int, v any) {
	svcJSON(w, status, "application/json; charset=utf-8", v)
}
