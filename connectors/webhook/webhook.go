// Package webhook is the generic incoming-webhook connector. It has no
// actions: its trigger accepts any body at the flow's webhook URL and can
// verify a signature first, either Standard Webhooks (webhook-id,
// webhook-timestamp, webhook-signature) or an HMAC-SHA256 of the body in a
// named header (GitHub's X-Hub-Signature-256 and the like). See Verify.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// Webhook is the generic webhook connector.
type Webhook struct{}

var _ connectors.Connector = (*Webhook)(nil)

// New returns the webhook connector.
func New() *Webhook { return &Webhook{} }

// Key returns "webhook".
func (*Webhook) Key() string { return "webhook" }

// Name returns the display name.
func (*Webhook) Name() string { return "Webhook" }

// AuthFields returns none: the webhook URL's token and the trigger's
// signature settings are all it needs.
func (*Webhook) AuthFields() []connectors.Field {
	return []connectors.Field{{
		Key: "secret", Label: "Signing secret", Type: connectors.FieldSecret, Secret: true, Required: true,
		Help: "The shared secret senders sign webhooks with (Standard Webhooks: the whsec_… key; HMAC: the raw secret).",
	}}
}

// Actions returns none; outgoing requests are the http connector's.
func (*Webhook) Actions() []connectors.Action { return nil }

// IncomingTrigger is the key of the incoming webhook trigger.
const IncomingTrigger = "webhook.incoming"

// Signature schemes of SignatureConfig.Scheme.
const (
	SchemeNone             = ""
	SchemeStandardWebhooks = "standard_webhooks"
	SchemeHMACHeader       = "hmac_sha256_header"
)

// DefaultSignatureHeader is the header SchemeHMACHeader reads when
// SignatureConfig.Header is empty.
const DefaultSignatureHeader = "X-Hub-Signature-256"

// Triggers returns the incoming webhook trigger.
func (*Webhook) Triggers() []connectors.TriggerSpec {
	return []connectors.TriggerSpec{{
		Key:  IncomingTrigger,
		Name: "Incoming webhook",
		Description: "POST any body (JSON, form or text) to this flow's webhook URL. JSON becomes trigger.*, " +
			"request headers are in headers.*. Optionally verify a signature over the raw body: Standard " +
			"Webhooks (webhook-id, webhook-timestamp, webhook-signature \"v1,<base64>\"; secret whsec_…; " +
			"5-minute replay window), or an HMAC-SHA256 of the body in a named header (hex or base64, with or " +
			"without a \"sha256=\" prefix, as GitHub's X-Hub-Signature-256). Requests that fail verification " +
			"are refused.",
		Fields: []connectors.Field{
			{Key: "signature", Label: "Signature check", Type: connectors.FieldSelect,
				Enum: []string{"none", SchemeStandardWebhooks, SchemeHMACHeader}, Default: "none"},
			{Key: "secret", Label: "Signing secret", Type: connectors.FieldSecret, Secret: true,
				Help: "For Standard Webhooks the whsec_… secret; for a header HMAC the shared secret as the sender has it."},
			{Key: "signature_header", Label: "Signature header", Type: connectors.FieldString, Default: DefaultSignatureHeader,
				Help: "The header that carries the HMAC, for the header HMAC check.", Example: DefaultSignatureHeader},
		},
	}}
}

// SignatureConfig says how to verify incoming requests.
type SignatureConfig struct {
	// Scheme is SchemeStandardWebhooks, SchemeHMACHeader, or SchemeNone
	// ("" or "none") for no check.
	Scheme string
	// Secret is the signing secret: "whsec_<base64>" for Standard Webhooks
	// (a secret without the prefix is also read as base64), the raw shared
	// secret for SchemeHMACHeader.
	Secret string
	// Header names the header of SchemeHMACHeader (default X-Hub-Signature-256).
	Header string
}

// MaxSkew is the Standard Webhooks replay window, in both directions.
const MaxSkew = 5 * time.Minute

// Errors of Verify. Every failure wraps one of them.
var (
	ErrMissingSignature = errors.New("webhook: missing signature header")
	ErrInvalidSignature = errors.New("webhook: signature does not match")
	ErrExpired          = errors.New("webhook: timestamp is more than 5 minutes away from now")
	ErrConfig           = errors.New("webhook: signature check misconfigured")
)

// Verify checks a request's signature over its exact raw body as cfg says,
// comparing in constant time. It fails closed: a configured scheme without
// a secret, a missing, garbled or stale header is an error.
func Verify(cfg SignatureConfig, header http.Header, body []byte, now time.Time) error {
	switch cfg.Scheme {
	case SchemeNone, "none":
		return nil
	case SchemeStandardWebhooks:
		return verifyStandard(cfg.Secret, header, body, now)
	case SchemeHMACHeader:
		return verifyHeader(cfg, header, body)
	default:
		return fmt.Errorf("%w: unknown scheme %q", ErrConfig, cfg.Scheme)
	}
}

// StandardKey decodes a Standard Webhooks secret ("whsec_<base64>") to the
// HMAC key.
func StandardKey(secret string) ([]byte, error) {
	s := strings.TrimPrefix(strings.TrimSpace(secret), "whsec_")
	if s == "" {
		return nil, fmt.Errorf("%w: no secret", ErrConfig)
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: the secret is not whsec_ followed by base64", ErrConfig)
	}
	return key, nil
}

// verifyStandard implements Standard Webhooks v1 (HMAC) verification.
func verifyStandard(secret string, header http.Header, body []byte, now time.Time) error {
	key, err := StandardKey(secret)
	if err != nil {
		return err
	}
	id := header.Get("webhook-id")
	tsText := header.Get("webhook-timestamp")
	sigs := header.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingSignature
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(tsText), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp is not a number", ErrInvalidSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrExpired
	}
	want := standardMAC(key, id, tsText, body)
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue // v1a (ed25519) and unknown versions are skipped, as the spec says
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrInvalidSignature
}

func standardMAC(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

// SignStandard returns the webhook-signature value for a Standard Webhooks
// message, for tests and senders.
func SignStandard(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := StandardKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(standardMAC(key, id, strconv.FormatInt(ts.Unix(), 10), body)), nil
}

// verifyHeader checks HMAC-SHA256(secret, body) in a named header, hex or
// base64, with an optional "sha256=" prefix.
func verifyHeader(cfg SignatureConfig, header http.Header, body []byte) error {
	if cfg.Secret == "" {
		return fmt.Errorf("%w: no secret", ErrConfig)
	}
	name := cfg.Header
	if name == "" {
		name = DefaultSignatureHeader
	}
	v := strings.TrimSpace(header.Get(name))
	if v == "" {
		return ErrMissingSignature
	}
	if algo, rest, ok := strings.Cut(v, "="); ok && strings.EqualFold(algo, "sha256") {
		v = rest
	}
	m := hmac.New(sha256.New, []byte(cfg.Secret))
	m.Write(body)
	want := m.Sum(nil)
	var got []byte
	if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
		got = b
	} else if b, err := base64.StdEncoding.DecodeString(v); err == nil {
		got = b
	} else if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "=")); err == nil {
		got = b
	} else {
		return fmt.Errorf("%w: %s is neither hex nor base64", ErrInvalidSignature, name)
	}
	if !hmac.Equal(got, want) {
		return ErrInvalidSignature
	}
	return nil
}
