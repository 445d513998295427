package fake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JiraIssue is an issue held by the Jira fake.
type JiraIssue struct {
	ID          string
	Key         string
	Project     string
	IssueType   string
	Summary     string
	Description map[string]any // ADF document, nil when none
	Labels      []string
	Status      string // "To Do", "In Progress" or "Done"
	Comments    []JiraComment
}

// JiraComment is a comment held by the Jira fake.
type JiraComment struct {
	ID   string
	Body map[string]any // ADF document
}

// jiraStatus is a status of the fake's workflow.
type jiraStatus struct {
	id, name, category, categoryName string
	categoryID                       int
}

// The fake's workflow: Jira Cloud's simplified workflow, with a global
// transition into each status (ids 11, 21, 31).
var jiraStatuses = []jiraStatus{
	{id: "10000", name: "To Do", category: "new", categoryName: "To Do", categoryID: 2},
	{id: "3", name: "In Progress", category: "indeterminate", categoryName: "In Progress", categoryID: 4},
	{id: "10001", name: "Done", category: "done", categoryName: "Done", categoryID: 3},
}

var jiraTransitionIDs = map[string]string{"To Do": "11", "In Progress": "21", "Done": "31"}

// Jira is a fake of the Jira Cloud REST API v3 (CONNECTORS.md §4): GET
// /rest/api/3/myself, POST /rest/api/3/issue (201 {id,key,self}), GET
// /rest/api/3/issue/{key}, GET and POST …/transitions (204), POST
// …/comment (201). Auth is HTTP Basic email:api_token; wrong credentials
// answer 401 "Client must be authenticated to access this resource." as
// text, and missing ones 401 with Jira's JSON error. Errors are
// {"errorMessages":[…],"errors":{…}}: a missing issue is 404 "Issue does
// not exist or you do not have permission to see it.", invalid fields 400.
// Descriptions and comments must be ADF documents. Rate limiting answers 429
// with Retry-After, X-RateLimit-Reset and RateLimit-Reason. Projects must
// be created with AddProject; issues start in "To Do".
type Jira struct {
	// URL is the server's root when started by NewJira; it is also the
	// connector's base_url (the "site").
	URL string
	// Email and Token are the only credentials the fake accepts.
	Email, Token string

	srv   *httptest.Server
	knobs svcKnobs

	mu       sync.Mutex
	projects map[string]jiraProject
	issues   map[string]*JiraIssue // by key
	byID     map[string]string     // id → key
	nextID   int
}

type jiraProject struct {
	key, id    string
	issueTypes []string
	nextNum    int
}

var jiraIssuePath = regexp.MustCompile(`^/rest/api/3/issue/([^/]+)(/transitions|/comment)?$`)

// NewJira starts a fake Jira site on a loopback httptest server that accepts
// email and token. Close it when done.
func NewJira(email, token string) *Jira {
	j := NewJiraHandler(email, token)
	j.srv = httptest.NewServer(j)
	j.URL = j.srv.URL
	return j
}

// NewJiraHandler returns the fake as an http.Handler without starting a
// server, for a dev command to serve on loopback. Set URL to where it is
// served so that the "self" links in answers are right.
func NewJiraHandler(email, token string) *Jira {
	return &Jira{
		Email: email, Token: token,
		projects: map[string]jiraProject{},
		issues:   map[string]*JiraIssue{},
		byID:     map[string]string{},
		nextID:   10000,
	}
}

// BaseURL returns the value for a connection's config.base_url.
func (j *Jira) BaseURL() string { return j.URL }

// Close stops the server started by NewJira.
func (j *Jira) Close() {
	if j.srv != nil {
		j.srv.Close()
	}
}

// AddProject creates a project with the given issue types (default: Task,
// Bug, Story, Epic).
func (j *Jira) AddProject(key string, issueTypes ...string) {
	if len(issueTypes) == 0 {
		issueTypes = []string{"Task", "Bug", "Story", "Epic"}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.projects[key]; ok {
		return
	}
	j.projects[key] = jiraProject{key: key, id: strconv.Itoa(10000 + len(j.projects)), issueTypes: issueTypes}
}

// Issue returns the issue with key.
func (j *Jira) Issue(key string) (JiraIssue, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	is, ok := j.issues[key]
	if !ok {
		return JiraIssue{}, false
	}
	return is.clone(), true
}

// Issues returns every issue, by creation order.
func (j *Jira) Issues() []JiraIssue {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]JiraIssue, 0, len(j.issues))
	for _, is := range j.issues {
		out = append(out, is.clone())
	}
	sort.Slice(out, func(a, b int) bool {
		x, _ := strconv.Atoi(out[a].ID)
		y, _ := strconv.Atoi(out[b].ID)
		return x < y
	})
	return out
}

// RateLimitNext makes the next n requests answer 429 with Retry-After of
// retryAfter (rounded up to whole seconds).
func (j *Jira) RateLimitNext(n int, retryAfter time.Duration) { j.knobs.rateLimitNext(n, retryAfter) }

// FailNext makes the next n requests (after any rate limiting) answer status
// with an HTML body.
func (j *Jira) FailNext(n int, status int) { j.knobs.failNext(n, status) }

// Requests returns every request received, in order.
func (j *Jira) Requests() []CapturedRequest { return j.knobs.requests() }

func (is *JiraIssue) clone() JiraIssue {
	c := *is
	c.Labels = append([]string(nil), is.Labels...)
	c.Comments = append([]JiraComment(nil), is.Comments...)
	return c
}

// ServeHTTP implements http.Handler.
func (j *Jira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := j.knobs.record(w, r)
	if status, after := j.knobs.next(); status != 0 {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", svcSeconds(after))
			w.Header().Set("X-RateLimit-Reset", time.Now().Add(after).UTC().Format("2006-01-02T15:04Z"))
			w.Header().Set("RateLimit-Reason", "jira-burst-based")
			jiraErrors(w, status, []string{"Rate limit exceeded."}, nil)
			return
		}
		svcHTMLError(w, status)
		return
	}
	email, token, hasAuth := r.BasicAuth()
	switch {
	case !hasAuth && r.Header.Get("Authorization") == "" && r.URL.Path != "/rest/api/3/myself":
		jiraErrors(w, http.StatusUnauthorized, []string{"You are not authenticated. Authentication required to perform this operation."}, nil)
		return
	case !hasAuth || email != j.Email || token != j.Token:
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
		w.Header().Set("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "Client must be authenticated to access this resource.")
		return
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	path := r.URL.Path
	switch {
	case path == "/rest/api/3/myself" && r.Method == http.MethodGet:
		jiraJSON(w, http.StatusOK, map[string]any{
			"self": j.URL + "/rest/api/3/user?accountId=5b10a2844c20165700ede21g", "accountId": "5b10a2844c20165700ede21g",
			"accountType": "atlassian", "emailAddress": j.Email, "displayName": "Switchboard Bot", "active": true, "timeZone": "UTC",
		})
	case path == "/rest/api/3/issue" && r.Method == http.MethodPost:
		j.createIssue(w, body)
	default:
		m := jiraIssuePath.FindStringSubmatch(path)
		if m == nil {
			jiraErrors(w, http.StatusNotFound, []string{"null for uri: " + j.URL + path}, nil)
			return
		}
		is := j.findIssue(m[1])
		if is == nil {
			jiraErrors(w, http.StatusNotFound, []string{"Issue does not exist or you do not have permission to see it."}, nil)
			return
		}
		switch {
		case m[2] == "" && r.Method == http.MethodGet:
			jiraJSON(w, http.StatusOK, j.issueView(is))
		case m[2] == "/transitions" && r.Method == http.MethodGet:
			jiraJSON(w, http.StatusOK, map[string]any{"expand": "transitions", "transitions": j.transitions(is)})
		case m[2] == "/transitions" && r.Method == http.MethodPost:
			j.transition(w, is, body)
		case m[2] == "/comment" && r.Method == http.MethodPost:
			j.comment(w, is, body)
		default:
			w.Header().Set("Allow", "GET, POST")
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}
}

// findIssue looks up by key or id. The caller holds j.mu.
func (j *Jira) findIssue(ref string) *JiraIssue {
	if key, ok := j.byID[ref]; ok {
		ref = key
	}
	return j.issues[strings.ToUpper(ref)]
}

// createIssue handles POST /rest/api/3/issue. The caller holds j.mu.
func (j *Jira) createIssue(w http.ResponseWriter, body []byte) {
	var in struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		jiraErrors(w, http.StatusBadRequest, []string{"Unexpected character in the request body."}, nil)
		return
	}
	var ref struct{ Key, ID, Name string }
	errs := map[string]string{}

	var proj jiraProject
	if raw, ok := in.Fields["project"]; !ok || json.Unmarshal(raw, &ref) != nil {
		errs["project"] = "Specify a valid project ID or key"
	} else if p, found := j.projectByRef(ref.Key, ref.ID); !found {
		errs["project"] = "Specify a valid project ID or key"
	} else {
		proj = p
	}
	ref = struct{ Key, ID, Name string }{}
	issueType := ""
	if raw, ok := in.Fields["issuetype"]; !ok || json.Unmarshal(raw, &ref) != nil || (ref.Name == "" && ref.ID == "") {
		errs["issuetype"] = "Specify an issue type"
	} else if proj.key != "" {
		for _, t := range proj.issueTypes {
			if strings.EqualFold(t, ref.Name) {
				issueType = t
			}
		}
		if issueType == "" {
			errs["issuetype"] = "Specify a valid issue type"
		}
	}
	var summary string
	if raw, ok := in.Fields["summary"]; !ok || json.Unmarshal(raw, &summary) != nil || strings.TrimSpace(summary) == "" {
		errs["summary"] = "You must specify a summary of the issue."
	} else if strings.ContainsAny(summary, "\r\n") {
		errs["summary"] = "The summary is invalid because it contains newline characters."
	}
	var description map[string]any
	if raw, ok := in.Fields["description"]; ok && string(raw) != "null" {
		if json.Unmarshal(raw, &description) != nil || !jiraIsADF(description) {
			errs["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
		}
	}
	var labels []string
	if raw, ok := in.Fields["labels"]; ok {
		if json.Unmarshal(raw, &labels) != nil {
			errs["labels"] = "Operation value must be an array of strings"
		}
		for _, l := range labels {
			if strings.ContainsAny(l, " \t") {
				errs["labels"] = "The label '" + l + "' contains spaces which is invalid."
			}
		}
	}
	for k := range in.Fields {
		switch k {
		case "project", "issuetype", "summary", "description", "labels":
		default:
			errs[k] = "Field '" + k + "' cannot be set. It is not on the appropriate screen, or unknown."
		}
	}
	if len(errs) > 0 {
		jiraErrors(w, http.StatusBadRequest, nil, errs)
		return
	}
	proj.nextNum++
	j.projects[proj.key] = proj
	j.nextID++
	is := &JiraIssue{
		ID: strconv.Itoa(j.nextID), Key: fmt.Sprintf("%s-%d", proj.key, proj.nextNum), Project: proj.key,
		IssueType: issueType, Summary: summary, Description: description, Labels: labels, Status: "To Do",
	}
	j.issues[is.Key] = is
	j.byID[is.ID] = is.Key
	jiraJSON(w, http.StatusCreated, map[string]any{
		"id": is.ID, "key": is.Key, "self": j.URL + "/rest/api/3/issue/" + is.ID,
		"transition": map[string]any{"status": 200, "errorCollection": map[string]any{"errorMessages": []string{}, "errors": map[string]any{}}},
	})
}

func (j *Jira) projectByRef(key, id string) (jiraProject, bool) {
	for _, p := range j.projects {
		if (key != "" && p.key == key) || (id != "" && p.id == id) {
			return p, true
		}
	}
	return jiraProject{}, false
}

// transitions lists the transitions available from the issue's status.
func (j *Jira) transitions(is *JiraIssue) []map[string]any {
	out := []map[string]any{}
	for _, st := range jiraStatuses {
		if st.name == is.Status {
			continue
		}
		out = append(out, map[string]any{
			"id": jiraTransitionIDs[st.name], "name": st.name, "to": jiraStatusView(st),
			"hasScreen": false, "isGlobal": true, "isInitial": false, "isAvailable": true, "isConditional": false,
		})
	}
	return out
}

// transition handles POST …/transitions. The caller holds j.mu.
func (j *Jira) transition(w http.ResponseWriter, is *JiraIssue, body []byte) {
	var in struct {
		Transition struct {
			ID string `json:"id"`
		} `json:"transition"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		jiraErrors(w, http.StatusBadRequest, []string{"Unexpected character in the request body."}, nil)
		return
	}
	if in.Transition.ID == "" {
		jiraErrors(w, http.StatusBadRequest, []string{"Missing 'transition' identifier"}, nil)
		return
	}
	for _, t := range j.transitions(is) {
		if t["id"] == in.Transition.ID {
			is.Status = t["name"].(string)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	jiraErrors(w, http.StatusBadRequest, []string{"Transition id '" + in.Transition.ID + "' is not valid for this issue."}, nil)
}

// comment handles POST …/comment. The caller holds j.mu.
func (j *Jira) comment(w http.ResponseWriter, is *JiraIssue, body []byte) {
	var in struct {
		Body map[string]any `json:"body"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Body == nil {
		jiraErrors(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body can not be empty!"})
		return
	}
	if !jiraIsADF(in.Body) {
		jiraErrors(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body is not a valid Atlassian Document."})
		return
	}
	j.nextID++
	c := JiraComment{ID: strconv.Itoa(j.nextID), Body: in.Body}
	is.Comments = append(is.Comments, c)
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000+0000")
	jiraJSON(w, http.StatusCreated, map[string]any{
		"self": j.URL + "/rest/api/3/issue/" + is.ID + "/comment/" + c.ID, "id": c.ID,
		"author": map[string]any{"accountId": "5b10a2844c20165700ede21g", "displayName": "Switchboard Bot"},
		"body":   c.Body, "created": now, "updated": now, "jsdPublic": true,
	})
}

// issueView is the issue as GET /rest/api/3/issue/{key} answers it (trimmed).
func (j *Jira) issueView(is *JiraIssue) map[string]any {
	var st jiraStatus
	for _, s := range jiraStatuses {
		if s.name == is.Status {
			st = s
		}
	}
	labels := is.Labels
	if labels == nil {
		labels = []string{}
	}
	comments := make([]map[string]any, 0, len(is.Comments))
	for _, c := range is.Comments {
		comments = append(comments, map[string]any{"id": c.ID, "body": c.Body})
	}
	return map[string]any{
		"id": is.ID, "key": is.Key, "self": j.URL + "/rest/api/3/issue/" + is.ID,
		"fields": map[string]any{
			"summary": is.Summary, "description": is.Description, "labels": labels,
			"issuetype": map[string]any{"name": is.IssueType},
			"project":   map[string]any{"key": is.Project},
			"status":    jiraStatusView(st),
			"comment":   map[string]any{"comments": comments, "total": len(comments)},
		},
	}
}

func jiraStatusView(st jiraStatus) map[string]any {
	return map[string]any{
		"id": st.id, "name": st.name,
		"statusCategory": map[string]any{"id": st.categoryID, "key": st.category, "name": st.categoryName},
	}
}

// jiraIsADF checks the outline of an ADF document: type doc, version 1,
// content nodes that have a type, and no empty text nodes.
func jiraIsADF(doc map[string]any) bool {
	if doc["type"] != "doc" || doc["version"] != float64(1) {
		return false
	}
	content, ok := doc["content"].([]any)
	if !ok {
		return false
	}
	return jiraValidNodes(content)
}

func jiraValidNodes(nodes []any) bool {
	for _, n := range nodes {
		m, ok := n.(map[string]any)
		if !ok {
			return false
		}
		typ, _ := m["type"].(string)
		switch typ {
		case "":
			return false
		case "text":
			if s, _ := m["text"].(string); s == "" {
				return false
			}
		}
		if c, ok := m["content"].([]any); ok && !jiraValidNodes(c) {
			return false
		}
	}
	return true
}

func jiraErrors(w http.ResponseWriter, status int, messages []string, errs map[string]string) {
	if messages == nil {
		messages = []string{}
	}
	if errs == nil {
		errs = map[string]string{}
	}
	jiraJSON(w, status, map[string]any{"errorMessages": messages, "errors": errs})
}

func jiraJSON(w http.ResponseWriter, status int, v any) {
	svcJSON(w, status, "application/json;charset=UTF-8", v)
}
