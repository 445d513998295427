package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/store"
)

// maxConnectionName is the longest connection name, in characters.
const maxConnectionName = 100

// connectionTestTimeout bounds a "test connection" call to the service.
const connectionTestTimeout = 20 * time.Second

// connectionView is a connection as the API shows it. Secrets are never part
// of it, not even masked.
type connectionView struct {
	ID        uuid.UUID      `json:"id"`
	Connector string         `json:"connector"`
	Name      string         `json:"name"`
	Config    map[string]any `json:"config"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

func viewConnection(c store.Connection) connectionView {
	cfg := c.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	return connectionView{ID: c.ID, Connector: c.Connector, Name: c.Name, Config: cfg, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// connectionInput is a validated POST /api/v1/connections body.
type connectionInput struct {
	Connector string
	Name      string
	Config    map[string]any
	Secrets   map[string]string
}

var errConnectionsUnavailable = &Error{Status: fiber.StatusServiceUnavailable, Code: "connections_unavailable",
	Message: "Connections are not available: this server was started without its connector catalog or secret key."}

// connectionsReady refuses to work on connections without a catalog to
// validate against or a sealer to encrypt with.
func (a *app) connectionsReady() error {
	if a.Catalog == nil || a.Sealer == nil {
		return errConnectionsUnavailable
	}
	return nil
}

// apiCreateConnection stores a connection: POST /api/v1/connections with
// {"connector","name","config":{…},"secrets":{…}} → 201 without the secrets.
func (a *app) apiCreateConnection(c *fiber.Ctx) error {
	if err := a.connectionsReady(); err != nil {
		return err
	}
	in, err := a.readConnection(c)
	if err != nil {
		return err
	}
	conn, err := store.CreateConnection(c.UserContext(), a.Pool, a.Sealer, member(c).WorkspaceID, in.Connector, in.Name, in.Config, in.Secrets)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewConnection(conn))
}

// apiListConnections answers {"connections":[…]}, oldest first.
func (a *app) apiListConnections(c *fiber.Ctx) error {
	list, err := store.ListConnections(c.UserContext(), a.Pool, member(c).WorkspaceID)
	if err != nil {
		return err
	}
	out := make([]connectionView, 0, len(list))
	for _, conn := range list {
		out = append(out, viewConnection(conn))
	}
	return c.JSON(fiber.Map{"connections": out})
}

// apiDeleteConnection deletes a connection of the token's workspace → 204.
func (a *app) apiDeleteConnection(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return notFound("Connection")
	}
	err = store.DeleteConnection(c.UserContext(), a.Pool, member(c).WorkspaceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Connection")
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// apiTestConnection asks the service whether the connection works: 200
// {"ok":true} or {"ok":false,"error":…} with the connector's message.
func (a *app) apiTestConnection(c *fiber.Ctx) error {
	if err := a.connectionsReady(); err != nil {
		return err
	}
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return notFound("Connection")
	}
	ws := member(c).WorkspaceID
	conn, err := store.GetConnection(c.UserContext(), a.Pool, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Connection")
	}
	if err != nil {
		return err
	}
	tester, ok := a.Catalog.Tester(conn.Connector)
	if !ok {
		return errorf(fiber.StatusUnprocessableEntity, "not_testable",
			"%s connections cannot be tested here; try the connection in a test run of a flow instead.", a.connectorName(conn.Connector))
	}
	opened, secrets, err := store.OpenConnection(c.UserContext(), a.Pool, a.Sealer, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Connection")
	}
	if errors.Is(err, store.ErrUnknownKey) {
		return errorf(fiber.StatusInternalServerError, "secret_key_unknown",
			"This connection's secrets were encrypted with a secret key this server does not have (key id %s). "+
				"Start the server with that SWITCHBOARD_SECRET_KEY, or re-create the connection.", conn.KeyID)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), connectionTestTimeout)
	defer cancel()
	terr := tester.TestConnection(ctx, &connectors.Connection{ID: opened.ID.String(), Config: opened.Config, Secrets: secrets},
		connectors.Client(a.HTTP))
	if terr == nil {
		return c.JSON(fiber.Map{"ok": true})
	}
	msg := terr.Error()
	if errors.Is(terr, context.DeadlineExceeded) && ctx.Err() != nil {
		msg = fmt.Sprintf("%s did not answer within %s", a.connectorName(conn.Connector), connectionTestTimeout)
	}
	return c.JSON(fiber.Map{"ok": false, "error": redactSecrets(msg, secrets)})
}

// connectorName is the connector's display name, or its key.
func (a *app) connectorName(key string) string {
	if conn, ok := a.Catalog.Connector(key); ok {
		return conn.Name()
	}
	return key
}

// readConnection parses and validates a connection body. Every problem is
// reported at once, by path; no message repeats a secret's value.
func (a *app) readConnection(c *fiber.Ctx) (connectionInput, error) {
	// The shared checks of handlers/json.go: declared JSON, one well-formed
	// object, no repeated fields. The fields themselves are read one by one
	// below so that every problem is reported as a 422 with its path.
	if !isJSONContentType(c.Get(fiber.HeaderContentType)) {
		return connectionInput{}, errNotJSON
	}
	body := c.Body()
	if err := checkTopLevel(body); err != nil {
		return connectionInput{}, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return connectionInput{}, errorf(fiber.StatusBadRequest, "invalid_json",
			`The body must be a JSON object: {"connector","name","config":{…},"secrets":{…}}.`)
	}

	var in connectionInput
	var details []Detail
	add := func(path, msg string) { details = append(details, Detail{Path: path, Message: msg}) }

	for _, k := range sortedRawKeys(top) {
		switch k {
		case "connector", "name", "config", "secrets":
		default:
			add(k, "is not a field of a connection")
		}
	}
	if raw, ok := top["connector"]; !ok || isJSONNull(raw) {
		add("connector", "is required")
	} else if err := json.Unmarshal(raw, &in.Connector); err != nil {
		add("connector", "must be text")
	} else if in.Connector = strings.TrimSpace(in.Connector); in.Connector == "" {
		add("connector", "is required")
	} else if _, known := a.Catalog.Connector(in.Connector); !known {
		msg := "is not a connector of this server (see GET /api/v1/connectors)"
		if len(in.Connector) <= 40 {
			msg = fmt.Sprintf("%q %s", in.Connector, msg)
		}
		add("connector", msg)
	}
	if raw, ok := top["name"]; !ok || isJSONNull(raw) {
		add("name", "is required")
	} else if err := json.Unmarshal(raw, &in.Name); err != nil {
		add("name", "must be text")
	} else if in.Name = strings.TrimSpace(in.Name); in.Name == "" {
		add("name", "is required")
	} else if utf8.RuneCountInString(in.Name) > maxConnectionName {
		add("name", fmt.Sprintf("must be at most %d characters", maxConnectionName))
	}
	in.Config = map[string]any{}
	if raw, ok := top["config"]; ok && !isJSONNull(raw) {
		if err := json.Unmarshal(raw, &in.Config); err != nil || in.Config == nil {
			in.Config = map[string]any{}
			add("config", "must be an object")
		}
	}
	in.Secrets = map[string]string{}
	badSecret := map[string]bool{}
	if raw, ok := top["secrets"]; ok && !isJSONNull(raw) {
		var secrets map[string]json.RawMessage
		if err := json.Unmarshal(raw, &secrets); err != nil || secrets == nil {
			add("secrets", "must be an object of text values")
		}
		for _, k := range sortedRawKeys(secrets) {
			var s string
			if err := json.Unmarshal(secrets[k], &s); err != nil {
				add("secrets."+k, "must be text (a JSON string)")
				badSecret["secrets."+k] = true
				continue
			}
			in.Secrets[k] = s
		}
	}

	if _, known := a.Catalog.Connector(in.Connector); known {
		for _, p := range a.Catalog.ValidateConnection(in.Connector, in.Config, in.Secrets) {
			if badSecret[p.Path] {
				continue // already reported as not text
			}
			add(p.Path, p.Message)
		}
	}
	if len(details) > 0 {
		parts := make([]string, len(details))
		for i, d := range details {
			parts[i] = d.Path + " " + d.Message
		}
		return connectionInput{}, &Error{Status: fiber.StatusUnprocessableEntity, Code: "invalid_connection",
			Message: "The connection is not valid: " + strings.Join(parts, "; ") + ".", Details: details}
	}
	// Blank optional secrets are the same as absent ones; keep only set values.
	for k, v := range in.Secrets {
		if strings.TrimSpace(v) == "" {
			delete(in.Secrets, k)
		}
	}
	return in, nil
}

func isJSONNull(raw json.RawMessage) bool {
	return strings.TrimSpace(string(raw)) == "null"
}

func sortedRawKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// redactSecrets removes the connection's secret values (and the text values of
// JSON-object secrets, such as extra headers) from a message before it is
// shown, in case a service or a library echoed one.
func redactSecrets(msg string, secrets map[string]string) string {
	var values []string
	for _, v := range secrets {
		values = append(values, v)
		var obj map[string]any
		if json.Unmarshal([]byte(v), &obj) == nil {
			for _, x := range obj {
				if s, ok := x.(string); ok {
					values = append(values, s)
				}
			}
		}
	}
	// Longest first, so a secret that contains another is removed whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	for _, v := range values {
		if len(strings.TrimSpace(v)) >= 4 {
			msg = strings.ReplaceAll(msg, v, "[secret]")
		}
	}
	return msg
}
