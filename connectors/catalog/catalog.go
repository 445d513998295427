// Package catalog lists every connector the server offers, in one function,
// so adding a connector is one visible line (see connectors/doc.go).
package catalog

import (
	"net/netip"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/email"
	httpconn "github.com/switchboard/switchboard/connectors/http"
	"github.com/switchboard/switchboard/connectors/jira"
	"github.com/switchboard/switchboard/connectors/mailchimp"
	"github.com/switchboard/switchboard/connectors/mixpanel"
	"github.com/switchboard/switchboard/connectors/posthog"
	"github.com/switchboard/switchboard/connectors/segment"
	"github.com/switchboard/switchboard/connectors/slack"
	"github.com/switchboard/switchboard/connectors/webhook"
)

// New returns the catalog of every connector, in the order the UI lists them,
// with the default egress rules for non-HTTP connectors (SMTP).
func New() *connectors.Catalog { return NewWithEgress(nil) }

// NewWithEgress is New with SWITCHBOARD_EGRESS_ALLOW applied to the connectors
// that dial on their own (email); HTTP connectors get the guarded client per request.
func NewWithEgress(allow []netip.Prefix) *connectors.Catalog {
	return connectors.NewCatalog(
		webhook.New(),
		httpconn.New(),
		slack.New(),
		mailchimp.New(),
		segment.New(),
		mixpanel.New(),
		posthog.New(),
		jira.New(),
		email.New(email.WithDialer(connectors.GuardedDial(allow))),
	)
}
