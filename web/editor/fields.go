package editor

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// validateURL is where a field posts its form to be checked as you type.
func validateURL(flowID, node string) string {
	return flowPath(flowID, "validate") + "?node=" + url.QueryEscape(node)
}

// validateAttrs make a field post the form after each pause in typing and
// put the answer in the field's message.
func validateAttrs(flowID, node, name string) templ.Attributes {
	return templ.Attributes{
		"hx-post":    validateURL(flowID, node),
		"hx-trigger": "input changed delay:350ms, change",
		"hx-target":  "#" + msgID(name),
		"hx-swap":    "outerHTML",
	}
}

func catalogResultsURL(p *CatalogPanel) string {
	q := url.Values{}
	q.Set("after", p.After)
	if p.Before != "" {
		q.Set("before", p.Before)
	}
	return flowPath(p.FlowID, "catalog", "results") + "?" + q.Encode()
}

func textareaRows(f InputField) string {
	lines := strings.Count(f.Value, "\n") + 1
	n := 3
	if f.Type == "json" {
		n = 4
	}
	return strconv.Itoa(min(max(n, lines+1), 14))
}

// fieldHelp adds how to write the field's type to its own help.
func fieldHelp(f InputField) string {
	var hint string
	switch f.Type {
	case "json":
		hint = "JSON; strings in it may hold {{ … }} templates, or write one {{ … }} for the whole value."
	case "kv":
		hint = "One per line, as Key: value."
	case "list":
		hint = "One item per line."
	case "number":
		hint = "A number, or a {{ … }} template."
	}
	switch {
	case f.Help == "":
		return hint
	case hint == "":
		return f.Help
	}
	return f.Help + " " + hint
}
