package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/store"
	webconns "github.com/switchboard/switchboard/web/connections"
	"github.com/switchboard/switchboard/web/layout"
)

// The connections pages: list, add (a form built from the connector's auth
// fields), test and delete. Secrets go straight from the form into the
// sealed column and are never rendered again.

// connectionsPage is GET /connections.
func (a *app) connectionsPage(c *fiber.Ctx) error {
	m := member(c)
	list, err := store.ListConnections(c.UserContext(), a.Pool, m.WorkspaceID)
	if err != nil {
		return err
	}
	v := webconns.ListView{Page: a.editorPageModel(c, "Connections", layout.NavConnections), CanEdit: m.CanEdit(), Now: editorNow()}
	for _, conn := range list {
		r := webconns.Row{ID: conn.ID.String(), Name: conn.Name, Connector: conn.Connector, ConnectorName: conn.Connector, CreatedAt: conn.CreatedAt}
		if a.Catalog != nil {
			r.ConnectorName = a.connectorName(conn.Connector)
			_, r.Testable = a.Catalog.Tester(conn.Connector)
		}
		for _, k := range []string{"base_url", "host", "from"} {
			if s, ok := conn.Config[k].(string); ok && s != "" {
				r.Summary = s
				break
			}
		}
		v.Connections = append(v.Connections, r)
	}
	return render(c, webconns.List(v))
}

// newConnectionForm is GET /connections/new?connector=&return=.
func (a *app) newConnectionForm(c *fiber.Ctx) error {
	if err := a.connectionsReady(); err != nil {
		return err
	}
	v := a.newConnectionView(c, c.Query("connector"), safeReturn(c.Query("return")))
	return render(c, webconns.New(v))
}

// safeReturn keeps "return" on this site; empty stays empty.
func safeReturn(ret string) string {
	if ret == "" {
		return ""
	}
	return safeNext(ret)
}

func (a *app) newConnectionView(c *fiber.Ctx, connector, ret string) webconns.NewView {
	v := webconns.NewView{Page: a.editorPageModel(c, "Add connection", layout.NavConnections), Return: ret}
	for _, conn := range a.Catalog.Connectors() {
		if len(conn.AuthFields()) == 0 {
			continue // nothing to connect (the webhook trigger)
		}
		v.Connectors = append(v.Connectors, webconns.ConnectorChoice{Key: conn.Key(), Name: conn.Name(), Fields: len(conn.AuthFields())})
	}
	conn, ok := a.Catalog.Connector(connector)
	if !ok || len(conn.AuthFields()) == 0 {
		return v
	}
	f := &webconns.Form{Connector: conn.Key(), ConnectorName: conn.Name(), Errors: map[string]string{}}
	for _, af := range conn.AuthFields() {
		fv := webconns.Field{Label: af.Label, Type: string(af.Type), Help: af.Help, Required: af.Required, Options: af.Enum,
			Secret: connectors.IsSecretField(af)}
		if fv.Label == "" {
			fv.Label = af.Key
		}
		if fv.Secret {
			fv.Name = "secrets." + af.Key
		} else {
			fv.Name = "config." + af.Key
		}
		if af.Example != nil {
			fv.Placeholder = fmt.Sprint(af.Example)
		} else if af.Default != nil {
			fv.Placeholder = fmt.Sprint(af.Default)
		}
		f.Fields = append(f.Fields, fv)
	}
	v.Form = f
	return v
}

// createConnectionForm is POST /connections/new.
func (a *app) createConnectionForm(c *fiber.Ctx) error {
	if err := a.connectionsReady(); err != nil {
		return err
	}
	ctx := c.UserContext()
	ret := safeReturn(c.FormValue("return"))
	v := a.newConnectionView(c, c.FormValue("connector"), ret)
	if v.Form == nil {
		return errorf(fiber.StatusBadRequest, "unknown_connector", "Choose a service to connect.")
	}
	f := v.Form
	f.Name = strings.TrimSpace(c.FormValue("name"))
	switch {
	case f.Name == "":
		f.Errors["name"] = "Name the connection."
	case utf8.RuneCountInString(f.Name) > maxConnectionName:
		f.Errors["name"] = fmt.Sprintf("Keep it under %d characters.", maxConnectionName+1)
	}
	config := map[string]any{}
	secrets := map[string]string{}
	conn, _ := a.Catalog.Connector(f.Connector)
	for i, af := range conn.AuthFields() {
		fv := &f.Fields[i]
		text := c.FormValue(fv.Name)
		if fv.Secret {
			if strings.TrimSpace(text) != "" {
				secrets[af.Key] = strings.TrimSpace(text)
			}
			continue
		}
		fv.Value = text
		if val, ok, msg := configValue(af.Type, text); msg != "" {
			f.Errors[fv.Name] = msg
		} else if ok {
			config[af.Key] = val
		}
	}
	for _, p := range a.Catalog.ValidateConnection(f.Connector, config, secrets) {
		msg := problemSentence(p.Message)
		if _, shown := f.Errors[p.Path]; shown {
			continue
		}
		known := false
		for _, fv := range f.Fields {
			if fv.Name == p.Path {
				known = true
			}
		}
		if known {
			f.Errors[p.Path] = msg
		} else {
			f.General = append(f.General, p.Path+": "+msg)
		}
	}
	if len(f.Errors) > 0 || len(f.General) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, webconns.New(v))
	}
	created, err := store.CreateConnection(ctx, a.Pool, a.Sealer, member(c).WorkspaceID, f.Connector, f.Name, config, secrets)
	if err != nil {
		return err
	}
	a.editorFlash(c, "Added the "+f.ConnectorName+" connection “"+f.Name+"”.")
	if ret != "" {
		return c.Redirect(withQuery(ret, "connection", created.ID.String()), fiber.StatusSeeOther)
	}
	return c.Redirect("/connections", fiber.StatusSeeOther)
}

// withQuery adds a query parameter to a local URL.
func withQuery(u, k, v string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + url.QueryEscape(k) + "=" + url.QueryEscape(v)
}

// configValue reads a plain (not secret) auth field: ok is false for an
// empty field, msg says what is wrong with the text.
func configValue(t connectors.FieldType, text string) (v any, ok bool, msg string) {
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, false, ""
	}
	switch t {
	case connectors.FieldNumber:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false, "Enter a number."
		}
		return n, true, ""
	case connectors.FieldBool:
		return s == "true", true, ""
	case connectors.FieldJSON:
		var x any
		if err := json.Unmarshal([]byte(s), &x); err != nil {
			return nil, false, "Enter valid JSON."
		}
		return x, true, ""
	case connectors.FieldKeyValue:
		x, _ := parseInput(t, s)
		return x, true, ""
	case connectors.FieldList:
		x, _ := parseInput(t, s)
		return x, true, ""
	}
	return s, true, ""
}

// testConnectionForm is POST /connections/:id/test: the connector's own
// check (Slack auth.test, Mailchimp ping, Jira myself), answered inline.
func (a *app) testConnectionForm(c *fiber.Ctx) error {
	if err := a.connectionsReady(); err != nil {
		return err
	}
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return notFound("Connection")
	}
	status, msg, err := a.checkConnection(c.UserContext(), member(c).WorkspaceID, id)
	if err != nil {
		return err
	}
	if c.Get("HX-Request") == "true" {
		return render(c, webconns.TestResult(id.String(), status, msg))
	}
	if status == "ok" {
		a.editorFlash(c, "The connection works.")
	} else {
		a.editorFlashKind(c, "error", "The connection test failed: "+msg)
	}
	return c.Redirect("/connections", fiber.StatusSeeOther)
}

// checkConnection runs the connector's test: status "ok" or "failed" with
// the service's message (secrets removed).
func (a *app) checkConnection(ctx context.Context, ws, id uuid.UUID) (status, msg string, err error) {
	conn, secrets, err := store.OpenConnection(ctx, a.Pool, a.Sealer, ws, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", "", notFound("Connection")
	case errors.Is(err, store.ErrUnknownKey):
		return "failed", "Its secrets were encrypted with a key this server does not have; re-create the connection.", nil
	case err != nil:
		return "", "", err
	}
	tester, ok := a.Catalog.Tester(conn.Connector)
	if !ok {
		return "failed", a.connectorName(conn.Connector) + " connections cannot be tested here; test a step that uses it.", nil
	}
	tctx, cancel := context.WithTimeout(ctx, connectionTestTimeout)
	defer cancel()
	terr := tester.TestConnection(tctx, &connectors.Connection{ID: conn.ID.String(), Config: conn.Config, Secrets: secrets}, connectors.Client(a.HTTP))
	if terr == nil {
		return "ok", "", nil
	}
	msg = terr.Error()
	if errors.Is(terr, context.DeadlineExceeded) && tctx.Err() != nil {
		msg = fmt.Sprintf("%s did not answer within %s", a.connectorName(conn.Connector), connectionTestTimeout)
	}
	return "failed", redactSecrets(msg, secrets), nil
}

// deleteConnectionForm is POST /connections/:id/delete.
func (a *app) deleteConnectionForm(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return notFound("Connection")
	}
	ctx := c.UserContext()
	ws := member(c).WorkspaceID
	conn, err := store.GetConnection(ctx, a.Pool, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Connection")
	}
	if err != nil {
		return err
	}
	if err := store.DeleteConnection(ctx, a.Pool, ws, id); err != nil {
		return err
	}
	a.editorFlash(c, "Deleted the connection “"+conn.Name+"”.")
	return c.Redirect("/connections", fiber.StatusSeeOther)
}
