package handlers

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseHookBody feeds arbitrary bodies and content types to the webhook body
// parser: it never panics, refuses only with our error type (400/415), and what
// it accepts can be stored as JSON.
func FuzzParseHookBody(f *testing.F) {
	f.Add("application/json", []byte(`{"a": [1, 2, {"b": null}]}`))
	f.Add("application/json; charset=utf-8", []byte(`{"broken"`))
	f.Add("application/x-www-form-urlencoded", []byte("a=1&a=2&b=%zz"))
	f.Add("text/plain", []byte("hello {{ trigger }}"))
	f.Add("", []byte(`[1,2,3]`))
	f.Add("application/vnd.api+json", []byte(``))
	f.Add("multipart/form-data; boundary=x", []byte("--x--"))
	f.Add("text/html; charset", []byte("<p>"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		v, _, err := parseHookBody(contentType, body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 415) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("accepted a payload that cannot be stored: %v", err)
		}
	})
}
