package mailchimp

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxFormDepth bounds the nesting ParseWebhookForm builds; deeper keys are
// kept as literal keys.
const maxFormDepth = 16

// ParseWebhookForm turns the form-encoded body of a Mailchimp list webhook,
// which uses PHP-style nested keys, into nested objects:
//
//	type=subscribe&data[email]=a@b.c&data[merges][FNAME]=Ann
//
// becomes {"type":"subscribe","data":{"email":"a@b.c","merges":{"FNAME":"Ann"}}}.
// Objects whose keys are exactly 0…n-1 become lists, "key[]" appends to a
// list, a repeated key keeps its last value, and keys that are not well
// formed ("a[b", "a]b") are kept as they are.
func ParseWebhookForm(values url.Values) map[string]any {
	root := map[string]any{}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := splitKey(k)
		for _, v := range values[k] {
			insert(root, path, v)
		}
	}
	for k, child := range root {
		root[k] = listify(child)
	}
	return root
}

// splitKey splits "data[merges][FNAME]" into [data merges FNAME]; a key that
// is not well formed is one segment.
func splitKey(k string) []string {
	open := strings.IndexByte(k, '[')
	if open <= 0 || !strings.HasSuffix(k, "]") {
		return []string{k}
	}
	path := []string{k[:open]}
	rest := k[open:]
	for rest != "" {
		if rest[0] != '[' {
			return []string{k}
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return []string{k}
		}
		seg := rest[1:end]
		if strings.ContainsRune(seg, '[') {
			return []string{k}
		}
		path = append(path, seg)
		rest = rest[end+1:]
	}
	if len(path) > maxFormDepth {
		return []string{k}
	}
	return path
}

// insert sets value at path; an empty segment appends (the next index).
func insert(node map[string]any, path []string, value string) {
	for i, seg := range path {
		if seg == "" && i > 0 {
			seg = strconv.Itoa(len(node))
		}
		if i == len(path)-1 {
			node[seg] = value
			return
		}
		child, ok := node[seg].(map[string]any)
		if !ok {
			child = map[string]any{}
			node[seg] = child
		}
		node = child
	}
}

// listify turns objects keyed 0…n-1 into lists, depth first.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, child := range m {
		m[k] = listify(child)
	}
	if len(m) == 0 {
		return m
	}
	list := make([]any, len(m))
	for k, child := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) || strconv.Itoa(i) != k {
			return m
		}
		list[i] = child
	}
	return list
}
