package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// Errors of VerifySignature. Every failure wraps one of them.
var (
	// ErrMissingSignature: the X-Hub-Signature header is absent.
	ErrMissingSignature = errors.New("jira: missing X-Hub-Signature header")
	// ErrInvalidSignature: the header is malformed or does not match the body.
	ErrInvalidSignature = errors.New("jira: webhook signature does not match")
)

// SignatureHeader is the header Jira admin webhooks with a secret are signed
// in (WebSub style; not "-256").
const SignatureHeader = "X-Hub-Signature"

// VerifySignature checks a Jira admin webhook delivery signed with secret:
// X-Hub-Signature must be "sha256=" + hex(HMAC-SHA256(secret, body)) over the
// exact raw body, compared in constant time. Jira sends no timestamp, so
// replays are caught by deduplicating on X-Atlassian-Webhook-Identifier. It
// fails closed: an empty secret or a missing or garbled header is an error.
func VerifySignature(secret string, header http.Header, body []byte) error {
	if secret == "" {
		return errors.New("jira: no webhook secret configured")
	}
	v := strings.TrimSpace(header.Get(SignatureHeader))
	if v == "" {
		return ErrMissingSignature
	}
	algo, hexSig, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(algo, "sha256") {
		return ErrInvalidSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ErrInvalidSignature
	}
	if !hmac.Equal(got, mac(secret, body)) {
		return ErrInvalidSignature
	}
	return nil
}

// Sign returns the X-Hub-Signature value Jira would send for body.
func Sign(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}
