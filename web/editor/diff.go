package editor

import "strings"

// DiffLine is one line of a line diff: Op is ' ' (in both), '-' (only in
// the old text) or '+' (only in the new one).
type DiffLine struct {
	Op   byte
	Text string
	// Old and New are 1-based line numbers, 0 where the line is absent.
	Old, New int
}

// maxDiffLines bounds the quadratic diff; beyond it the texts are shown as
// one removal and one addition.
const maxDiffLines = 3000

// Diff returns a line diff of a and b (longest common subsequence).
func Diff(a, b string) []DiffLine {
	al, bl := splitLines(a), splitLines(b)
	if len(al) > maxDiffLines || len(bl) > maxDiffLines {
		out := make([]DiffLine, 0, len(al)+len(bl))
		for i, l := range al {
			out = append(out, DiffLine{Op: '-', Text: l, Old: i + 1})
		}
		for i, l := range bl {
			out = append(out, DiffLine{Op: '+', Text: l, New: i + 1})
		}
		return out
	}
	// lcs[i][j] is the LCS length of al[i:] and bl[j:].
	n, m := len(al), len(bl)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	out := make([]DiffLine, 0, max(n, m))
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case al[i] == bl[j]:
			out = append(out, DiffLine{Op: ' ', Text: al[i], Old: i + 1, New: j + 1})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{Op: '-', Text: al[i], Old: i + 1})
			i++
		default:
			out = append(out, DiffLine{Op: '+', Text: bl[j], New: j + 1})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{Op: '-', Text: al[i], Old: i + 1})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{Op: '+', Text: bl[j], New: j + 1})
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// Changes counts the added and removed lines.
func Changes(d []DiffLine) (added, removed int) {
	for _, l := range d {
		switch l.Op {
		case '+':
			added++
		case '-':
			removed++
		}
	}
	return added, removed
}

func (l DiffLine) class() string {
	switch l.Op {
	case '+':
		return "diff__line diff__line--add"
	case '-':
		return "diff__line diff__line--del"
	}
	return "diff__line"
}

func (l DiffLine) sign() string {
	switch l.Op {
	case '+':
		return "+"
	case '-':
		return "−"
	}
	return " "
}

func lineNo(n int) string {
	if n == 0 {
		return ""
	}
	return itoa(n)
}
