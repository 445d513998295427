package email

import (
	"context"
	"fmt"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// sendAction is email.send.
type sendAction struct{ e *Email }

func (sendAction) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:         "email.send",
		Name:        "Send email",
		Description: "Send an email through the connection's SMTP server. A retried step sends the same Message-ID.",
		Fields: []connectors.Field{
			{
				Key:      "to",
				Label:    "To",
				Type:     connectors.FieldString,
				Required: true,
				Help:     "One recipient, or several separated by commas. Names are allowed: Ada <ada@example.com>.",
				Example:  "{{ trigger.email }}",
			},
			{
				Key:      "subject",
				Label:    "Subject",
				Type:     connectors.FieldString,
				Required: true,
				Help:     "The subject line.",
				Example:  "Welcome, {{ trigger.name }}",
			},
			{
				Key:     "text",
				Label:   "Text body",
				Type:    connectors.FieldText,
				Help:    "The plain-text body. Give text, html or both (then mail clients pick one).",
				Example: "Glad you are here.",
			},
			{
				Key:     "html",
				Label:   "HTML body",
				Type:    connectors.FieldText,
				Help:    "The HTML body. Give text, html or both.",
				Example: "<p>Glad you are here.</p>",
			},
		},
		Outputs: []connectors.Field{
			{Key: "message_id", Label: "Message-ID", Type: connectors.FieldString, Help: "The Message-ID header, which holds the step's idempotency key."},
			{Key: "accepted", Label: "Accepted recipients", Type: connectors.FieldList, Help: "The addresses the server accepted."},
		},
	}
}

func (a sendAction) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	to, err := recipients(req.Input)
	if err != nil {
		return nil, err
	}
	subject, err := connectors.InputString(req.Input, "subject")
	if err != nil {
		return nil, err
	}
	text, err := connectors.InputText(req.Input, "text")
	if err != nil {
		return nil, err
	}
	html, err := connectors.InputText(req.Input, "html")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" && strings.TrimSpace(html) == "" {
		return nil, connectors.Permanent(0, "input.text or input.html is required")
	}
	s, err := readSettings(req.Connection)
	if err != nil {
		return nil, err
	}

	m := &message{
		from:      s.from,
		to:        to,
		subject:   subject,
		text:      text,
		html:      html,
		date:      time.Now(),
		messageID: MessageID(req.IdempotencyKey, s.from.Address),
	}
	raw, err := m.bytes()
	if err != nil {
		return nil, connectors.Permanent(0, "email: cannot build the message: "+err.Error())
	}
	accepted := make([]string, len(to))
	for i, addr := range to {
		accepted[i] = addr.Address
	}
	err = a.e.session(ctx, s, func(ctx context.Context, c *smtp.Client) error {
		if err := c.Mail(s.from.Address); err != nil {
			return classify(ctx, "MAIL FROM", err)
		}
		// Any refused recipient aborts the whole message before DATA, so a
		// retry (or a fix) never delivers twice to the others.
		for _, rcpt := range accepted {
			if err := c.Rcpt(rcpt); err != nil {
				_ = c.Reset()
				return classify(ctx, fmt.Sprintf("RCPT TO <%s>", rcpt), err)
			}
		}
		w, err := c.Data()
		if err != nil {
			return classify(ctx, "DATA", err)
		}
		if _, err := w.Write(raw); err != nil {
			_ = w.Close()
			return classify(ctx, "DATA", err)
		}
		if err := w.Close(); err != nil {
			return classify(ctx, "end of DATA", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"message_id": m.messageID, "accepted": accepted}, nil
}

// recipients reads input.to: one address, a comma-separated list (names and
// quoted names with commas allowed), or a list of addresses.
func recipients(in map[string]any) ([]*mail.Address, error) {
	var parts []string
	switch v := in["to"].(type) {
	case string:
		if strings.TrimSpace(v) != "" {
			parts = []string{v}
		}
	default:
		list, err := connectors.InputStringList(in, "to")
		if err != nil {
			return nil, err
		}
		parts = list
	}
	var out []*mail.Address
	for _, p := range parts {
		list, err := mail.ParseAddressList(p)
		if err != nil {
			return nil, connectors.InvalidInput("to", "must be email addresses separated by commas")
		}
		out = append(out, list...)
	}
	if len(out) == 0 {
		return nil, connectors.MissingInput("to")
	}
	return out, nil
}
