package email

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// message is an email to build.
type message struct {
	from      *mail.Address
	to        []*mail.Address
	subject   string
	text      string
	html      string
	date      time.Time
	messageID string
}

// MessageID returns the Message-ID header for a step: the idempotency key
// (characters not allowed in a Message-ID replaced by '.', hashed when
// longer than 100 characters) at the sender's domain, so every retry of a
// step sends the same Message-ID and a duplicate is recognisable. An empty key
// (a one-off test run) gets a random one.
func MessageID(idempotencyKey, fromAddress string) string {
	domain := "switchboard.invalid"
	if at := strings.LastIndexByte(fromAddress, '@'); at >= 0 && at < len(fromAddress)-1 {
		domain = sanitizeAtom(fromAddress[at+1:])
	}
	var local string
	switch {
	case idempotencyKey == "":
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		local = "switchboard." + hex.EncodeToString(b)
	case len(idempotencyKey) > 100:
		sum := sha256.Sum256([]byte(idempotencyKey))
		local = "switchboard." + hex.EncodeToString(sum[:])
	default:
		local = "switchboard." + sanitizeAtom(idempotencyKey)
	}
	return "<" + local + "@" + domain + ">"
}

// sanitizeAtom keeps the characters of an RFC 5322 dot-atom, replaces the rest
// with '.', and removes empty dot-separated parts.
func sanitizeAtom(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			b[i] = '.'
		}
	}
	parts := strings.FieldsFunc(string(b), func(r rune) bool { return r == '.' })
	if len(parts) == 0 {
		return "x"
	}
	return strings.Join(parts, ".")
}

// bytes renders the message with CRLF line ends: headers, then a
// quoted-printable text/plain or text/html body, or a multipart/alternative
// of both (plain text first, so clients that can prefer the HTML).
func (m *message) bytes() ([]byte, error) {
	var buf bytes.Buffer
	to := make([]string, len(m.to))
	for i, a := range m.to {
		to[i] = a.String()
	}
	header := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	header("From", m.from.String())
	header("To", strings.Join(to, ",\r\n "))
	header("Subject", encodeSubject(m.subject))
	header("Date", m.date.Format(time.RFC1123Z))
	header("Message-ID", m.messageID)
	header("MIME-Version", "1.0")

	switch {
	case m.text != "" && m.html != "":
		mw := multipart.NewWriter(&buf)
		header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
		buf.WriteString("\r\n")
		for _, part := range []struct{ typ, body string }{{"text/plain", m.text}, {"text/html", m.html}} {
			w, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {part.typ + "; charset=utf-8"},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return nil, err
			}
			if err := writeQP(w, part.body); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
	default:
		typ, body := "text/plain", m.text
		if m.text == "" {
			typ, body = "text/html", m.html
		}
		header("Content-Type", typ+"; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString("\r\n")
		if err := writeQP(&buf, body); err != nil {
			return nil, err
		}
		buf.WriteString("\r\n")
	}
	return buf.Bytes(), nil
}

// writeQP writes body quoted-printable with CRLF line ends. In a multipart
// body the line end before the next boundary belongs to the boundary, so
// nothing is added after the text.
func writeQP(w interface{ Write([]byte) (int, error) }, body string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\r\n", "\n"))); err != nil {
		return err
	}
	return qp.Close()
}

// encodeSubject returns the subject as a header value: line breaks become
// spaces (no header injection) and non-ASCII text becomes RFC 2047 encoded
// words, one per folded line.
func encodeSubject(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}
