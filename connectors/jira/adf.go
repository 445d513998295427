package jira

import (
	"regexp"
	"strings"
)

var blankLines = regexp.MustCompile(`\n[ \t]*\n`)

// ADF converts plain text to an Atlassian Document Format document, which
// Jira's REST API v3 requires for descriptions and comments: paragraphs are
// separated by blank lines, and single line breaks inside a paragraph become
// hardBreak nodes. Empty text gives a document without content.
func ADF(text string) map[string]any {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	content := []any{}
	for _, para := range blankLines.Split(text, -1) {
		para = strings.Trim(para, "\n")
		if strings.TrimSpace(para) == "" {
			continue
		}
		var nodes []any
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				nodes = append(nodes, map[string]any{"type": "hardBreak"})
			}
			// ADF forbids empty text nodes.
			if line != "" {
				nodes = append(nodes, map[string]any{"type": "text", "text": line})
			}
		}
		content = append(content, map[string]any{"type": "paragraph", "content": nodes})
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}
