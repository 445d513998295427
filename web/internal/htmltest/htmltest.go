// Package htmltest renders templ components in tests and inspects the HTML:
// find elements by data-testid or name, read attributes, and check that a page
// needs nothing the server's Content-Security-Policy refuses.
package htmltest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/net/html"
)

// Render renders c and returns the raw HTML and its parsed tree.
func Render(t testing.TB, c templ.Component) (string, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := html.Parse(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return buf.String(), doc
}

// Attr returns the value of n's attribute key and whether it is present.
func Attr(n *html.Node, key string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// Walk calls fn for every element under n, in document order.
func Walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		Walk(c, fn)
	}
}

// Find returns the first element under n for which match is true, or nil.
func Find(n *html.Node, match func(*html.Node) bool) *html.Node {
	var found *html.Node
	Walk(n, func(e *html.Node) {
		if found == nil && match(e) {
			found = e
		}
	})
	return found
}

// ByAttr returns the first element under n whose attribute key equals val.
func ByAttr(n *html.Node, key, val string) *html.Node {
	return Find(n, func(e *html.Node) bool {
		v, ok := Attr(e, key)
		return ok && v == val
	})
}

// ByTestID returns the first element with data-testid=id, or nil.
func ByTestID(n *html.Node, id string) *html.Node { return ByAttr(n, "data-testid", id) }

// ByName returns the first element with name=name, or nil.
func ByName(n *html.Node, name string) *html.Node { return ByAttr(n, "name", name) }

// CSPViolations lists what in the page the server's CSP (script-src 'self';
// style-src 'self'; no external resources) would refuse: style attributes,
// <style> elements, inline scripts, on* handlers, javascript: URLs and
// off-site scripts or stylesheets.
func CSPViolations(raw string, doc *html.Node) []string {
	var bad []string
	if strings.Contains(raw, "style=") {
		bad = append(bad, "style= in the markup")
	}
	Walk(doc, func(n *html.Node) {
		switch n.Data {
		case "style":
			bad = append(bad, "<style> element")
		case "script":
			src, _ := Attr(n, "src")
			switch {
			case src == "":
				bad = append(bad, "inline <script> without src")
			case !strings.HasPrefix(src, "/") || strings.HasPrefix(src, "//"):
				bad = append(bad, "off-site script "+src)
			case n.FirstChild != nil:
				bad = append(bad, "<script src="+src+"> with a body")
			}
		case "link":
			if href, _ := Attr(n, "href"); !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "//") {
				bad = append(bad, "off-site <link> "+href)
			}
		}
		for _, a := range n.Attr {
			switch {
			case a.Key == "style":
				bad = append(bad, "style attribute on <"+n.Data+">")
			case strings.HasPrefix(a.Key, "on"):
				bad = append(bad, "inline handler "+a.Key+" on <"+n.Data+">")
			case (a.Key == "href" || a.Key == "src" || a.Key == "action" || a.Key == "formaction") &&
				strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:"):
				bad = append(bad, "javascript: URL on <"+n.Data+">")
			}
		}
	})
	return bad
}
