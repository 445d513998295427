package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxEventAge is the replay window of signed requests: Slack's documented
// five minutes, in both directions.
const MaxEventAge = 5 * time.Minute

// Errors of VerifyEvent. Every failure wraps one of them.
var (
	// ErrMissingSignature: X-Slack-Signature or X-Slack-Request-Timestamp is absent.
	ErrMissingSignature = errors.New("slack: missing X-Slack-Signature or X-Slack-Request-Timestamp header")
	// ErrInvalidSignature: the signature is malformed or does not match the body.
	ErrInvalidSignature = errors.New("slack: request signature does not match")
	// ErrExpiredTimestamp: the timestamp is outside the 5-minute window.
	ErrExpiredTimestamp = errors.New("slack: request timestamp is more than 5 minutes away from now")
)

// VerifyEvent checks a request from Slack (Events API, slash commands,
// interactivity) as Slack documents: the X-Slack-Signature header must be
// "v0=" + hex(HMAC-SHA256(signingSecret, "v0:" + X-Slack-Request-Timestamp +
// ":" + body)) over the exact raw body, compared in constant time, and the
// timestamp within MaxEventAge of now. It fails closed: an empty secret, a
// missing or garbled header is an error.
func VerifyEvent(signingSecret string, header http.Header, body []byte, now time.Time) error {
	if signingSecret == "" {
		return errors.New("slack: no signing secret configured")
	}
	sig := strings.TrimSpace(header.Get("X-Slack-Signature"))
	tsText := strings.TrimSpace(header.Get("X-Slack-Request-Timestamp"))
	if sig == "" || tsText == "" {
		return ErrMissingSignature
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrInvalidSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxEventAge || d < -MaxEventAge {
		return ErrExpiredTimestamp
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return ErrInvalidSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrInvalidSignature
	}
	if !hmac.Equal(got, eventMAC(signingSecret, tsText, body)) {
		return ErrInvalidSignature
	}
	return nil
}

// Sign returns the X-Slack-Signature value for body sent at ts, for tests
// and fakes that play Slack.
func Sign(signingSecret string, ts time.Time, body []byte) string {
	return "v0=" + hex.EncodeToString(eventMAC(signingSecret, strconv.FormatInt(ts.Unix(), 10), body))
}

func eventMAC(secret, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return mac.Sum(nil)
}

// URLVerification recognises the url_verification handshake Slack sends when
// a Request URL is saved ({"type":"url_verification","challenge":"…"}) and
// returns the challenge to answer with (HTTP 200, text/plain, the challenge
// as body). Verify the request's signature first.
func URLVerification(body []byte) (challenge string, ok bool) {
	var m struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(body, &m) != nil || m.Type != "url_verification" || m.Challenge == "" {
		return "", false
	}
	return m.Challenge, true
}
