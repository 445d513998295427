package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// errNotJSON answers API bodies sent as anything but JSON.
var errNotJSON = &Error{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_media_type",
	Message: "Send the request body as JSON with Content-Type: application/json."}

// isJSONContentType accepts application/json and any application/*+json type.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// decodeBody reads a JSON API request body into dst, a pointer to a struct,
// strictly: the body must be one JSON object with no unknown, repeated or
// mistyped fields and nothing after it. Failures are *Error values: 415 when
// the body is not declared as JSON, 400 (with the offending field's path in
// the details) otherwise. Bodies over the app's limit never get here: Fiber
// answers them with 413.
func decodeBody(c *fiber.Ctx, dst any) error {
	if !isJSONContentType(c.Get(fiber.HeaderContentType)) {
		return errNotJSON
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return errorf(fiber.StatusBadRequest, "invalid_json", "The request body is empty; send a JSON object.")
	}
	if err := checkTopLevel(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return bodyError(body, err)
	}
	return nil
}

// checkTopLevel makes sure the body is exactly one well-formed JSON object
// whose members are not repeated (encoding/json would silently keep the last).
func checkTopLevel(body []byte) error {
	if !json.Valid(body) {
		var v any
		return bodyError(body, json.Unmarshal(body, &v))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, _ := dec.Token(); t != json.Delim('{') {
		return errorf(fiber.StatusBadRequest, "invalid_json", "The request body must be a JSON object.")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bodyError(body, err)
		}
		key, _ := t.(string)
		if seen[key] {
			return &Error{Status: fiber.StatusBadRequest, Code: "invalid_json", Message: "The request body repeats a field.",
				Details: []Detail{{Path: key, Message: "duplicate field"}}}
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return bodyError(body, err)
		}
	}
	return nil
}

// bodyError turns a decoding error into a 400 that says what and where,
// without echoing the body.
func bodyError(body []byte, err error) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := position(body, se.Offset)
		return errorf(fiber.StatusBadRequest, "invalid_json", "The request body is not valid JSON (line %d, column %d).", line, col)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errorf(fiber.StatusBadRequest, "invalid_json", "The request body is not valid JSON (it ends too early).")
	case errors.As(err, &te):
		path := te.Field
		if path == "" {
			return errorf(fiber.StatusBadRequest, "invalid_json", "The request body must be a JSON object.")
		}
		return &Error{Status: fiber.StatusBadRequest, Code: "invalid_json", Message: "A field of the request body has the wrong type.",
			Details: []Detail{{Path: path, Message: "must be " + describeKind(te.Type)}}}
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &Error{Status: fiber.StatusBadRequest, Code: "invalid_json", Message: "The request body has a field this endpoint does not take.",
			Details: []Detail{{Path: strings.Trim(f, `"`), Message: "unknown field"}}}
	}
	return errorf(fiber.StatusBadRequest, "invalid_json", "The request body is not valid JSON.")
}

func position(data []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for _, b := range data[:max(0, min(int(offset)-1, len(data)))] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

func describeKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return fmt.Sprintf("of type %s", t.Kind())
}
