package flows

import (
	"fmt"
	"strings"
)

// Problem is one reason a definition is invalid. Path locates the offending
// value in the definition's JSON (for example "steps[2].needs[0]"); it is
// empty when the problem concerns the document as a whole.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// String formats the problem as "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems is the error returned by [Decode], [Validate] and [Compile]. It
// lists every problem found, in a stable order, so that an API can report
// them all at once.
type Problems struct {
	List []Problem
}

// Error joins all problems into one line.
func (p *Problems) Error() string {
	if p == nil || len(p.List) == 0 {
		return "invalid flow definition"
	}
	parts := make([]string, len(p.List))
	for i, pr := range p.List {
		parts[i] = pr.String()
	}
	return "invalid flow definition: " + strings.Join(parts, "; ")
}

func (p *Problems) add(path, format string, args ...any) {
	p.List = append(p.List, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// err returns p as an error, or nil when it holds no problems.
func (p *Problems) err() error {
	if p == nil || len(p.List) == 0 {
		return nil
	}
	return p
}
