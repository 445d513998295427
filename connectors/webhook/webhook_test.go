package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/webhook"
)

// The Standard Webhooks library's test vector (CONNECTORS.md §5.1).
const (
	swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTS     = "1614265330"
	swBody   = `{"test": 2432232314}`
	swSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func swHeader(id, ts, sig string) http.Header {
	h := http.Header{}
	for k, v := range map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig} {
		if v != "" {
			h.Set(k, v)
		}
	}
	return h
}

func TestStandardWebhooks(t *testing.T) {
	t.Parallel()
	cfg := webhook.SignatureConfig{Scheme: webhook.SchemeStandardWebhooks, Secret: swSecret}
	sent := time.Unix(1614265330, 0)
	now := sent.Add(30 * time.Second)

	for name, tc := range map[string]struct {
		cfg    webhook.SignatureConfig
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		"documented vector":         {cfg, swHeader(swID, swTS, swSig), swBody, now, nil},
		"one of several (rotation)": {cfg, swHeader(swID, swTS, "v1,Zm9v v1a,abc "+swSig), swBody, now, nil},
		"secret without prefix":     {webhook.SignatureConfig{Scheme: webhook.SchemeStandardWebhooks, Secret: swSecret[6:]}, swHeader(swID, swTS, swSig), swBody, now, nil},
		"tampered body":             {cfg, swHeader(swID, swTS, swSig), swBody + " ", now, webhook.ErrInvalidSignature},
		"other id":                  {cfg, swHeader("msg_other", swTS, swSig), swBody, now, webhook.ErrInvalidSignature},
		"wrong secret":              {webhook.SignatureConfig{Scheme: webhook.SchemeStandardWebhooks, Secret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-24-bytes"))}, swHeader(swID, swTS, swSig), swBody, now, webhook.ErrInvalidSignature},
		"expired":                   {cfg, swHeader(swID, swTS, swSig), swBody, sent.Add(5*time.Minute + time.Second), webhook.ErrExpired},
		"too new":                   {cfg, swHeader(swID, swTS, swSig), swBody, sent.Add(-5*time.Minute - time.Second), webhook.ErrExpired},
		"missing signature":         {cfg, swHeader(swID, swTS, ""), swBody, now, webhook.ErrMissingSignature},
		"missing id":                {cfg, swHeader("", swTS, swSig), swBody, now, webhook.ErrMissingSignature},
		"missing timestamp":         {cfg, swHeader(swID, "", swSig), swBody, now, webhook.ErrMissingSignature},
		"garbled timestamp":         {cfg, swHeader(swID, "yesterday", swSig), swBody, now, webhook.ErrInvalidSignature},
		"garbled signature":         {cfg, swHeader(swID, swTS, "nonsense"), swBody, now, webhook.ErrInvalidSignature},
		"only v1a":                  {cfg, swHeader(swID, swTS, "v1a,"+swSig[3:]), swBody, now, webhook.ErrInvalidSignature},
		"no secret":                 {webhook.SignatureConfig{Scheme: webhook.SchemeStandardWebhooks}, swHeader(swID, swTS, swSig), swBody, now, webhook.ErrConfig},
		"secret not base64":         {webhook.SignatureConfig{Scheme: webhook.SchemeStandardWebhooks, Secret: "whsec_!!"}, swHeader(swID, swTS, swSig), swBody, now, webhook.ErrConfig},
	} {
		t.Run(name, func(t *testing.T) {
			err := webhook.Verify(tc.cfg, tc.header, []byte(tc.body), tc.now)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}

	sig, err := webhook.SignStandard(swSecret, swID, sent, []byte(swBody))
	require.NoError(t, err)
	require.Equal(t, swSig, sig)
}

func TestHMACHeader(t *testing.T) {
	t.Parallel()
	// GitHub's documented vector (CONNECTORS.md §5.2).
	const (
		secret = "It's a Secret to Everybody"
		body   = "Hello, World!"
		hexSig = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	b64 := base64.StdEncoding.EncodeToString(m.Sum(nil))

	h := func(name, v string) http.Header {
		hd := http.Header{}
		if v != "" {
			hd.Set(name, v)
		}
		return hd
	}
	github := webhook.SignatureConfig{Scheme: webhook.SchemeHMACHeader, Secret: secret}
	custom := webhook.SignatureConfig{Scheme: webhook.SchemeHMACHeader, Secret: secret, Header: "X-Signature"}
	now := time.Now()

	for name, tc := range map[string]struct {
		cfg    webhook.SignatureConfig
		header http.Header
		body   string
		want   error
	}{
		"github sha256= hex":  {github, h("X-Hub-Signature-256", "sha256="+hexSig), body, nil},
		"bare hex":            {github, h("X-Hub-Signature-256", hexSig), body, nil},
		"base64 named header": {custom, h("X-Signature", b64), body, nil},
		"sha256= base64":      {custom, h("X-Signature", "sha256="+b64), body, nil},
		"tampered body":       {github, h("X-Hub-Signature-256", "sha256="+hexSig), body + "!", webhook.ErrInvalidSignature},
		"wrong secret":        {webhook.SignatureConfig{Scheme: webhook.SchemeHMACHeader, Secret: "nope"}, h("X-Hub-Signature-256", hexSig), body, webhook.ErrInvalidSignature},
		"missing":             {github, h("X-Other", hexSig), body, webhook.ErrMissingSignature},
		"wrong header":        {custom, h("X-Hub-Signature-256", hexSig), body, webhook.ErrMissingSignature},
		"garbled":             {github, h("X-Hub-Signature-256", "sha256=%%%"), body, webhook.ErrInvalidSignature},
		"truncated":           {github, h("X-Hub-Signature-256", hexSig[:40]), body, webhook.ErrInvalidSignature},
		"no secret":           {webhook.SignatureConfig{Scheme: webhook.SchemeHMACHeader}, h("X-Hub-Signature-256", hexSig), body, webhook.ErrConfig},
	} {
		t.Run(name, func(t *testing.T) {
			err := webhook.Verify(tc.cfg, tc.header, []byte(tc.body), now)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestNoneAndUnknownScheme(t *testing.T) {
	t.Parallel()
	require.NoError(t, webhook.Verify(webhook.SignatureConfig{}, http.Header{}, nil, time.Now()))
	require.NoError(t, webhook.Verify(webhook.SignatureConfig{Scheme: "none"}, http.Header{}, nil, time.Now()))
	require.ErrorIs(t, webhook.Verify(webhook.SignatureConfig{Scheme: "stripe"}, http.Header{}, nil, time.Now()), webhook.ErrConfig)
}

func FuzzVerify(f *testing.F) {
	f.Add(swID, swTS, swSig, "sha256=00", []byte(swBody))
	f.Add("", "", "v1, v1,", "", []byte{})
	f.Fuzz(func(t *testing.T, id, ts, sig, hub string, body []byte) {
		now := time.Unix(1614265330, 0)
		_ = webhook.Verify(webhook.SignatureConfig{Scheme: webhook.SchemeStandardWebhooks, Secret: swSecret}, swHeader(id, ts, sig), body, now)
		h := http.Header{}
		h.Set("X-Hub-Signature-256", hub)
		_ = webhook.Verify(webhook.SignatureConfig{Scheme: webhook.SchemeHMACHeader, Secret: "s"}, h, body, now)
	})
}
