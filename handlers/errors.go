package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/web/components"
)

// Error is an expected failure with a message meant for the user. It renders as
// the JSON error shape on the API and as an error page in the UI.
type Error struct {
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
}

// Detail names one problem by path.
type Detail struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = &Error{Status: fiber.StatusUnauthorized, Code: "unauthorized", Message: "A valid API token is required: send Authorization: Bearer <token>."}
	errForbidden    = &Error{Status: fiber.StatusForbidden, Code: "forbidden", Message: "Your role in this workspace does not allow this."}
	errCSRF         = &Error{Status: fiber.StatusForbidden, Code: "csrf_token_invalid", Message: "The form expired or was not sent from Switchboard; reload the page and try again."}
)

func notFound(what string) *Error {
	return errorf(fiber.StatusNotFound, "not_found", "%s not found.", what)
}

// errorHandler is the app's one error handler: expected errors carry their own
// message; anything else is logged once with the request id and shown as a
// generic error with that id.
func (a *app) errorHandler(c *fiber.Ctx, err error) error {
	var e *Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &fe):
		e = fromFiberError(fe)
	case errors.Is(err, jobs.ErrNULPayload):
		e = &Error{Status: fiber.StatusBadRequest, Code: "invalid_body", Message: "The body contains a NUL character (\\u0000), which cannot be stored."}
	default:
		rid := requestID(c)
		a.log.Error("request failed", "request_id", rid, "method", c.Method(), "path", c.Path(), "err", err)
		e = &Error{Status: fiber.StatusInternalServerError, Code: "internal",
			Message: "Something went wrong on our side (request id " + rid + ")."}
	}
	if wantsJSON(c) {
		return c.Status(e.Status).JSON(fiber.Map{"error": e})
	}
	c.Status(e.Status)
	return render(c, components.ErrorPage(e.Status, e.Message, requestID(c)))
}

func fromFiberError(fe *fiber.Error) *Error {
	code := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(fe.Message), " ", "_"))
	msg := fe.Message
	switch fe.Code {
	case fiber.StatusNotFound:
		code, msg = "not_found", "No such page or endpoint."
	case fiber.StatusMethodNotAllowed:
		code, msg = "method_not_allowed", "This method is not allowed here."
	case fiber.StatusRequestEntityTooLarge:
		code, msg = "body_too_large", "The request body is too large."
	case fiber.StatusTooManyRequests:
		code, msg = "rate_limited", "Too many requests; slow down and try again shortly."
	case fiber.StatusBadRequest:
		code = "bad_request"
	case fiber.StatusUnsupportedMediaType:
		code = "unsupported_media_type"
	}
	return &Error{Status: fe.Code, Code: code, Message: msg}
}

func wantsJSON(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/") ||
		(strings.Contains(c.Get(fiber.HeaderAccept), "application/json") && !strings.Contains(c.Get(fiber.HeaderAccept), "text/html"))
}

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals("requestid").(string); ok {
		return v
	}
	return ""
}

// logRequests logs one line per request with slog.
func logRequests(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		if err != nil {
			// Let the error handler set the status before logging it.
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		status := c.Response().StatusCode()
		level := slog.LevelDebug
		if status >= 500 {
			level = slog.LevelWarn
		}
		log.Log(c.UserContext(), level, "http", "method", c.Method(), "path", c.Path(), "status", status, "request_id", requestID(c))
		return nil
	}
}
