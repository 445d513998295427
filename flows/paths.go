package flows

// MaxPaths is the most paths [Paths] returns.
const MaxPaths = 500

const maxPathDepth = 16

// Paths lists the expression paths into a JSON sample, for the editor's
// data picker: Paths({"user": {"email": "a@b"}}, "trigger") is
// ["trigger.user", "trigger.user.email"]. Object keys are visited in sorted
// order; a list contributes its first element as [0]; keys that are not
// identifiers use brackets (trigger["first-name"]). At most [MaxPaths]
// paths are returned.
func Paths(sample any, prefix string) []string {
	var out []string
	var walk func(v any, path string, depth int)
	walk = func(v any, path string, depth int) {
		if depth >= maxPathDepth {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if len(out) >= MaxPaths {
					return
				}
				p := fieldPath(path, k)
				out = append(out, p)
				walk(x[k], p, depth+1)
			}
		case []any:
			if len(x) == 0 || len(out) >= MaxPaths {
				return
			}
			p := path + "[0]"
			out = append(out, p)
			walk(x[0], p, depth+1)
		}
	}
	walk(sample, prefix, 0)
	return out
}
