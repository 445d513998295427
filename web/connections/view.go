// Package connections renders the connections pages: the list with a
// "Test" and a "Delete" per connection, and the form that adds one, built
// from the connector's auth fields (secrets as password inputs, never shown
// again).
package connections

import (
	"net/url"
	"time"

	"github.com/switchboard/switchboard/web/layout"
)

// ListView is the connections page.
type ListView struct {
	Page        layout.Page
	Connections []Row
	CanEdit     bool
	// Now is the reference for relative times; zero means time.Now().
	Now time.Time
}

// Row is one connection; secrets are never part of it.
type Row struct {
	ID            string
	Name          string
	Connector     string
	ConnectorName string
	// Summary shows a harmless setting such as the base URL or host.
	Summary   string
	CreatedAt time.Time
	Testable  bool
}

// NewView is the "Add a connection" page: a choice of connector, then the
// chosen connector's form.
type NewView struct {
	Page layout.Page
	// Return is where to go once the connection exists (a local path).
	Return     string
	Connectors []ConnectorChoice
	Form       *Form
}

// ConnectorChoice is one connector to add a connection for.
type ConnectorChoice struct {
	Key  string
	Name string
	// Fields counts its connection fields (none: it needs no connection).
	Fields int
}

// Form is a connector's connection form.
type Form struct {
	Connector     string
	ConnectorName string
	Name          string
	Fields        []Field
	// Errors maps a form field (name, config.x, secrets.x) to its problem.
	Errors map[string]string
	// General lists problems that belong to no field.
	General []string
}

// Field is one auth field of the connector.
type Field struct {
	// Name is the form name: config.<key> or secrets.<key>.
	Name        string
	Label       string
	Type        string // string, text, number, bool, select, json, kv, list, secret
	Help        string
	Placeholder string
	Required    bool
	Secret      bool
	Options     []string
	Value       string
}

func (v ListView) now() time.Time {
	if v.Now.IsZero() {
		return time.Now()
	}
	return v.Now
}

func page(p layout.Page, title string) layout.Page {
	if p.Title == "" {
		p.Title = title
	}
	p.Active = layout.NavConnections
	return p
}

func connPath(id, action string) string {
	return "/connections/" + url.PathEscape(id) + "/" + action
}

func newURL(connector, ret string) string {
	q := url.Values{}
	q.Set("connector", connector)
	if ret != "" {
		q.Set("return", ret)
	}
	return "/connections/new?" + q.Encode()
}

func testID(id string) string { return "conn-test-" + id }

func fieldID(name string) string {
	b := []byte("field-" + name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	return string(b)
}

// inputType is the <input type> of a one-line field.
func (f Field) inputType() string {
	switch {
	case f.Secret:
		return "password"
	case f.Type == "number":
		return "text"
	case f.Type == "string" && (f.Name == "config.base_url"):
		return "url"
	}
	return "text"
}

func (f Field) multiline() bool {
	return f.Type == "text" || f.Type == "json" || f.Type == "kv" || f.Type == "list"
}

func cancelURL(ret string) string {
	if ret != "" {
		return ret
	}
	return "/connections"
}

// chooseURL is the connector choice, keeping where to return.
func chooseURL(ret string) string {
	if ret == "" {
		return "/connections/new"
	}
	return "/connections/new?return=" + url.QueryEscape(ret)
}
