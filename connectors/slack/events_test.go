package slack_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors/slack"
)

// Slack's documented example (CONNECTORS.md §1.3).
const (
	docSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	docTS     = "1531420618"
	docBody   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	docSig    = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func headers(sig, ts string) http.Header {
	h := http.Header{}
	if sig != "" {
		h.Set("X-Slack-Signature", sig)
	}
	if ts != "" {
		h.Set("X-Slack-Request-Timestamp", ts)
	}
	return h
}

func TestVerifyEvent(t *testing.T) {
	t.Parallel()
	ts, _ := strconv.ParseInt(docTS, 10, 64)
	now := time.Unix(ts, 0).Add(time.Minute)

	for name, tc := range map[string]struct {
		secret string
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		"documented vector": {docSecret, headers(docSig, docTS), docBody, now, nil},
		"tampered body":     {docSecret, headers(docSig, docTS), docBody + "x", now, slack.ErrInvalidSignature},
		"wrong secret":      {"other", headers(docSig, docTS), docBody, now, slack.ErrInvalidSignature},
		"expired":           {docSecret, headers(docSig, docTS), docBody, time.Unix(ts, 0).Add(5*time.Minute + time.Second), slack.ErrExpiredTimestamp},
		"from the future":   {docSecret, headers(docSig, docTS), docBody, time.Unix(ts, 0).Add(-6 * time.Minute), slack.ErrExpiredTimestamp},
		"missing signature": {docSecret, headers("", docTS), docBody, now, slack.ErrMissingSignature},
		"missing timestamp": {docSecret, headers(docSig, ""), docBody, now, slack.ErrMissingSignature},
		"no v0 prefix":      {docSecret, headers(docSig[3:], docTS), docBody, now, slack.ErrInvalidSignature},
		"not hex":           {docSecret, headers("v0=zz", docTS), docBody, now, slack.ErrInvalidSignature},
		"garbled timestamp": {docSecret, headers(docSig, "soon"), docBody, now, slack.ErrInvalidSignature},
	} {
		t.Run(name, func(t *testing.T) {
			err := slack.VerifyEvent(tc.secret, tc.header, []byte(tc.body), tc.now)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
	require.Error(t, slack.VerifyEvent("", headers(docSig, docTS), []byte(docBody), now), "an empty secret fails closed")
}

func TestSignRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Now()
	body := []byte(`{"type":"event_callback","event_id":"Ev1"}`)
	h := headers(slack.Sign("s3cret", now, body), strconv.FormatInt(now.Unix(), 10))
	require.NoError(t, slack.VerifyEvent("s3cret", h, body, now))

	ts, _ := strconv.ParseInt(docTS, 10, 64)
	require.Equal(t, docSig, slack.Sign(docSecret, time.Unix(ts, 0), []byte(docBody)))
}

func TestURLVerification(t *testing.T) {
	t.Parallel()
	c, ok := slack.URLVerification([]byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`))
	require.True(t, ok)
	require.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", c)

	for _, body := range []string{`{"type":"event_callback","challenge":"x"}`, `{"type":"url_verification"}`, `not json`, ``} {
		_, ok := slack.URLVerification([]byte(body))
		require.False(t, ok, body)
	}
}

func FuzzVerifyEvent(f *testing.F) {
	f.Add(docSig, docTS, []byte(docBody))
	f.Add("v0=", "", []byte{})
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		_ = slack.VerifyEvent(docSecret, headers(sig, ts), body, time.Unix(1531420618, 0))
		_, _ = slack.URLVerification(body)
	})
}
