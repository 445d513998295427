package handlers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/editor"
	"github.com/switchboard/switchboard/web/layout"
)

// publishDraft is POST /flows/:id/publish: the draft is validated exactly as
// the API validates a definition; with problems, they are shown inline and
// nothing changes; otherwise it becomes a new version and the draft is
// cleared. A flow that was never runnable (created in the editor, disabled,
// no valid version, no runs) is enabled by its first publish.
func (a *app) publishDraft(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	m := member(c)
	raw, err := marshalDefinition(st.def)
	if err != nil {
		return err
	}
	var ps problems
	canonical, err := a.checkDefinition(ctx, &ps, m.WorkspaceID, raw)
	if err != nil {
		return err
	}
	if len(ps.list) > 0 {
		c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), ""))
		return a.renderEditor(c, st, viewOpts{showProblems: true})
	}
	enable, err := a.neverRunnable(ctx, m.WorkspaceID, st)
	if err != nil {
		return err
	}
	var f store.Flow
	err = a.store.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		if f, err = store.UpdateFlow(ctx, tx, m.WorkspaceID, st.flow.ID, nil, canonical, &m.UserID); err != nil {
			return err
		}
		if err := clearDraft(ctx, tx, m.WorkspaceID, st.flow.ID); err != nil {
			return err
		}
		if enable {
			if err := store.SetFlowEnabled(ctx, tx, m.WorkspaceID, st.flow.ID, true); err != nil {
				return err
			}
			f.Enabled = true
		}
		return nil
	})
	if err != nil {
		return flowErr(err)
	}
	st.flow.Flow, st.flow.Draft = f, nil
	if st.def, err = decodeWorking(f.Definition); err != nil {
		return err
	}
	text := fmt.Sprintf("Published version %d: new events run it.", f.CurrentVersion)
	if enable {
		text = fmt.Sprintf("Published version %d and enabled the flow: events posted to its webhook now start runs.", f.CurrentVersion)
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), ""))
	return a.renderEditor(c, st, viewOpts{notice: &editor.Notice{Kind: "success", Text: text}})
}

// neverRunnable reports whether the flow is disabled, its published version
// does not validate and it never ran: a flow still being built.
func (a *app) neverRunnable(ctx context.Context, ws uuid.UUID, st *editorState) (bool, error) {
	if st.flow.Enabled {
		return false, nil
	}
	var ps problems
	if _, err := a.checkDefinition(ctx, &ps, ws, st.flow.Definition); err != nil {
		return false, err
	}
	if len(ps.list) == 0 {
		return false, nil
	}
	var ran bool
	err := a.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE workspace_id = $1 AND flow_id = $2 AND NOT is_test)`, ws, st.flow.ID).Scan(&ran)
	if err != nil {
		return false, fmt.Errorf("editor: flow runs: %w", err)
	}
	return !ran, nil
}

// discardDraft is POST /flows/:id/discard: back to the published version.
func (a *app) discardDraft(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	if err := clearDraft(c.UserContext(), a.Pool, member(c).WorkspaceID, st.flow.ID); err != nil {
		return err
	}
	st.flow.Draft = nil
	if st.def, err = decodeWorking(st.flow.Definition); err != nil {
		return err
	}
	c.Set("HX-Push-Url", editor.FlowURL(st.flowID(), ""))
	return a.renderEditor(c, st, viewOpts{notice: &editor.Notice{Kind: "info",
		Text: fmt.Sprintf("Discarded the draft: the editor shows version %d again.", st.flow.CurrentVersion)}})
}

// flowVersionsPage is GET /flows/:id/versions?a=&b=: the version history and
// a line diff of two versions' pretty JSON ("draft" names the draft).
func (a *app) flowVersionsPage(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	m := member(c)
	vs, err := listVersions(ctx, a.Pool, m.WorkspaceID, st.flow.ID)
	if err != nil {
		return err
	}
	v := editor.VersionsView{
		Page:     a.editorPageModel(c, "History · "+st.flow.Name, layout.NavFlows),
		FlowID:   st.flowID(),
		FlowName: st.flow.Name,
		Current:  st.flow.CurrentVersion,
		HasDraft: st.flow.Draft != nil,
		Now:      editorNow(),
		CanEdit:  m.CanEdit(),
	}
	texts := map[string]string{}
	if st.flow.Draft != nil {
		texts["draft"] = editorPrettyDefinition(st.flow.Draft)
		v.Compare = append(v.Compare, editor.Option{Value: "draft", Label: "Draft"})
	}
	for _, r := range vs {
		n := 0
		if def, err := decodeWorking(r.Definition); err == nil {
			n = len(def.Steps)
		}
		v.Versions = append(v.Versions, editor.VersionRow{Version: r.Version, Author: r.Author, At: r.CreatedAt, Steps: n,
			Current: r.Version == st.flow.CurrentVersion})
		key := strconv.Itoa(r.Version)
		texts[key] = editorPrettyDefinition(r.Definition)
		v.Compare = append(v.Compare, editor.Option{Value: key, Label: "Version " + key})
	}
	// Default: what changed last (the draft against the live version, or the
	// live version against the one before it).
	cur := strconv.Itoa(st.flow.CurrentVersion)
	v.A, v.B = strconv.Itoa(max(st.flow.CurrentVersion-1, 1)), cur
	if st.flow.Draft != nil {
		v.A, v.B = cur, "draft"
	}
	if q := c.Query("a"); texts[q] != "" || q == "draft" && st.flow.Draft != nil {
		v.A = q
	}
	if q := c.Query("b"); texts[q] != "" {
		v.B = q
	}
	v.Diff = editor.Diff(texts[v.A], texts[v.B])
	return render(c, editor.Versions(v))
}

// revertToVersion is POST /flows/:id/versions/:version/revert: an old
// version becomes the draft, to publish (or edit) from there.
func (a *app) revertToVersion(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Params("version"))
	if err != nil || n < 1 {
		return notFound("Version")
	}
	ctx := c.UserContext()
	ver, err := store.GetFlowVersion(ctx, a.Pool, st.flow.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Version")
	}
	if err != nil {
		return err
	}
	def, err := decodeWorking(ver.Definition)
	if err != nil {
		return err
	}
	st.def = def
	if err := a.saveWorking(ctx, c, st); err != nil {
		return err
	}
	a.editorFlash(c, fmt.Sprintf("Version %d is now the draft; publish it to make it live again.", n))
	return c.Redirect(editor.FlowURL(st.flowID(), ""), fiber.StatusSeeOther)
}

// exportFlow is GET /flows/:id/export: the published definition (the draft
// with ?draft=1) as a JSON download.
func (a *app) exportFlow(c *fiber.Ctx) error {
	st, err := a.loadEditor(c)
	if err != nil {
		return err
	}
	raw := []byte(st.flow.Definition)
	suffix := "v" + strconv.Itoa(st.flow.CurrentVersion)
	if c.Query("draft") == "1" && st.flow.Draft != nil {
		raw, suffix = st.flow.Draft, "draft"
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+exportFileSlug(st.flow.Name)+"-"+suffix+`.json"`)
	return c.SendString(editorPrettyDefinition(raw) + "\n")
}

// exportFileSlug makes a safe file name from a flow name.
func exportFileSlug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 60 {
		s = strings.Trim(s[:60], "-")
	}
	if s == "" {
		return "flow"
	}
	return s
}

// sessFlashKind marks the flash the editor's pages left as an error or a
// warning; without it a flash is a success.
const sessFlashKind = "editor_flash_kind"

// editorFlash leaves a one-shot success message for the next page.
func (a *app) editorFlash(c *fiber.Ctx, msg string) { a.editorFlashKind(c, "success", msg) }

// editorFlashKind leaves a one-shot message of a kind (success, warning,
// error) for the next page.
func (a *app) editorFlashKind(c *fiber.Ctx, kind, msg string) {
	sess, err := a.sessions.Get(c)
	if err != nil {
		return
	}
	sess.Set(sessFlash, msg)
	if kind != "success" {
		sess.Set(sessFlashKind, kind)
	} else {
		sess.Delete(sessFlashKind)
	}
	_ = sess.Save()
}

// editorPageModel is a.page with the kind of the flash the editor's pages
// left.
func (a *app) editorPageModel(c *fiber.Ctx, title, active string) layout.Page {
	p := a.page(c, title, active)
	sess, err := a.sessions.Get(c)
	if err != nil {
		return p
	}
	if k := asString(sess.Get(sessFlashKind)); k != "" {
		if p.Flash != "" {
			p.FlashKind = k
		}
		sess.Delete(sessFlashKind)
		_ = sess.Save()
	}
	return p
}
