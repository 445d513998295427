package slack

import (
	"fmt"
	"net/http"

	"github.com/switchboard/switchboard/connectors"
)

// explanations says, for Slack's error codes, what went wrong in words a
// person can act on (CONNECTORS.md §1.1).
var explanations = map[string]string{
	"not_authed":                               "no token was sent; set the connection's bot token",
	"invalid_auth":                             "the token is not valid; copy the Bot User OAuth Token again",
	"account_inactive":                         "the token belongs to a deleted user or workspace",
	"token_revoked":                            "the token was revoked; reinstall the app and update the connection",
	"token_expired":                            "the token expired; reinstall the app and update the connection",
	"no_permission":                            "the token lacks the permission to do this",
	"missing_scope":                            "the token lacks a scope; add it under OAuth & Permissions and reinstall the app",
	"not_allowed_token_type":                   "this kind of token cannot post messages; use a bot token (xoxb-…)",
	"channel_not_found":                        "the channel does not exist or the bot cannot see it; check the name or ID and invite the bot to private channels",
	"not_in_channel":                           "the bot is not a member of the channel; invite it with /invite @your-app",
	"is_archived":                              "the channel is archived",
	"msg_too_long":                             "the message text is too long (Slack truncates beyond 40,000 characters)",
	"no_text":                                  "the message has no text and no blocks",
	"too_many_attachments":                     "a message may have at most 100 attachments",
	"invalid_blocks":                           "the blocks are not valid Block Kit; check them in the Block Kit Builder",
	"invalid_blocks_format":                    "blocks must be a JSON list of Block Kit blocks",
	"restricted_action":                        "a workspace setting prevents the bot from posting in this channel",
	"restricted_action_read_only_channel":      "the channel is read-only for the bot",
	"restricted_action_thread_only_channel":    "the channel only allows replies in threads",
	"restricted_action_non_threadable_channel": "the channel does not allow threads",
	"as_user_not_supported":                    "as_user is not supported by this kind of app",
	"ekm_access_denied":                        "the workspace's Enterprise Key Management denied access",
	"invalid_arguments":                        "Slack rejected the request's arguments",
	"invalid_arg_name":                         "Slack rejected an argument name",
	"invalid_charset":                          "Slack rejected the request's character set",
	"invalid_form_data":                        "Slack could not read the request body",
	"invalid_post_type":                        "Slack rejected the request's content type",
	"missing_post_type":                        "the request had no content type",
	"team_added_to_org":                        "the workspace is being migrated into an Enterprise Grid org; retry later",
	"org_login_required":                       "the workspace is being migrated into an Enterprise Grid org; retry later",
	"ratelimited":                              "Slack is rate limiting this app",
	"rate_limited":                             "Slack is rate limiting this app",
	"request_timeout":                          "Slack timed out reading the request",
	"fatal_error":                              "Slack had an internal error",
	"internal_error":                           "Slack had an internal error",
	"service_unavailable":                      "Slack is temporarily unavailable",
}

// retryable lists the ok:false codes worth retrying with backoff.
var retryable = map[string]bool{
	"request_timeout":     true,
	"fatal_error":         true,
	"internal_error":      true,
	"service_unavailable": true,
	"team_added_to_org":   true,
	"org_login_required":  true,
}

// describe returns "code: explanation" (or the bare code for unknown codes).
func describe(code string, env *apiResponse) string {
	msg := code
	if ex, ok := explanations[code]; ok {
		msg += " (" + ex + ")"
	}
	if env != nil && code == "missing_scope" && env.Needed != "" {
		msg += fmt.Sprintf("; needed: %s, provided: %s", env.Needed, env.Provided)
	}
	return msg
}

// apiError maps an ok:false answer (HTTP 200) to the engine's error types:
// rate limits wait, Slack-side trouble retries, everything else is permanent.
func apiError(method string, env *apiResponse, h http.Header) error {
	code := env.Error
	if code == "" {
		code = "unknown_error"
	}
	msg := fmt.Sprintf("slack: %s failed: %s", method, describe(code, env))
	switch {
	case code == "ratelimited" || code == "rate_limited":
		return connectors.RateLimited(connectors.RetryAfter(h, connectors.DefaultRetryAfter), msg)
	case retryable[code]:
		return &connectors.RetryableError{Status: http.StatusOK, Message: msg}
	default:
		return connectors.Permanent(http.StatusOK, msg)
	}
}
