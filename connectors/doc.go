// Package connectors defines what a connector is (auth fields, actions, triggers,
// each with field specs), the catalog that lists them, the typed errors the engine
// maps to River, and the egress-guarded HTTP client every connector must use.
//
// # Errors
//
// An action returns a *PermanentError when retrying cannot help (invalid input,
// most 4xx answers, Slack's ok:false), a *RateLimitedError when the service asked
// to wait (429 with Retry-After), and any other error for trouble worth retrying
// with backoff (network, timeouts, 408, 5xx). ClassifyHTTP maps a status to those
// and TransportError maps a failed http.Client.Do. Messages are shown to people
// on the run page: they name the service and its error, and never contain a
// secret, a token or a URL that may carry one.
//
// # Outbound HTTP
//
// Connectors send requests only through Request.HTTP (or the client handed to
// TestConnection), made by NewHTTPClient. Its dialer refuses loopback, private,
// link-local, metadata and other non-public addresses at connect time, so DNS
// answers and redirects cannot reach them; SWITCHBOARD_EGRESS_ALLOW (parsed by
// ParseAllowList) opens chosen prefixes. Read bodies with ReadBody (or DoHTTP),
// which enforces the response size cap.
//
// # Adding a connector
//
//  1. Read the service's contract (requests, answers, errors, rate limits) and
//     write it down in CONNECTORS.md if it is not there yet.
//  2. Create the package connectors/<key> with a type that implements Connector,
//     a New() constructor and a compile-time check:
//     var _ connectors.Connector = (*Slack)(nil).
//     Key() is snake_case and never renamed. AuthFields() lists the
//     connection's settings and secrets (type secret, or Secret: true); every
//     HTTP connector also takes config.base_url, read with BaseURL.
//  3. Add one type per action implementing Action. Its key is
//     "<connector>.<action>" in snake_case; each field has a Label, a Type, and
//     Help/Example where they help a person fill the form; Outputs name what
//     Execute returns. Read input with the Input* helpers, which return
//     *PermanentError naming the field. Pass Request.IdempotencyKey to the API
//     wherever it takes one. Map the service's error bodies to a readable
//     message and classify the status with ClassifyHTTP.
//  4. Implement Tester when the service has a cheap authenticated call
//     ("who am I", "ping").
//  5. Describe inbound triggers with TriggerSpec (key "<connector>.<trigger>")
//     and export the verification the ingest handler needs (signature check
//     over the raw body, replay window, constant-time compare). Secret fields
//     appear only in AuthFields and TriggerSpec fields, never in action fields.
//  6. Add a fake of the service in connectors/fake that reproduces the real
//     contract (paths, auth failures, error bodies, Retry-After) with knobs to
//     inject failures, and test the connector against it: success with the
//     exact request shape, auth failure, rate limit, 5xx, test connection.
//  7. List the connector in catalog.New (connectors/catalog); the conformance
//     test there checks keys, field types and labels for every connector.
package connectors
