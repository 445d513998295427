package email_test

import (
	"context"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/email"
	"github.com/switchboard/switchboard/connectors/fake"
)

const (
	user     = "mailer"
	password = "s3cret-pass"
	from     = "Switchboard <noreply@example.com>"
)

type bundle struct {
	smtp  *fake.SMTP
	conn  *connectors.Connection
	email *email.Email
	dials *atomic.Int32
}

// setup starts a fake server with opts and a connector whose dialer counts
// dials and whose TLS configuration trusts the fake's certificate.
func setup(t *testing.T, opts fake.SMTPOptions, mode string) *bundle {
	t.Helper()
	srv, err := fake.NewSMTP(opts)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	dials := new(atomic.Int32)
	d := &net.Dialer{Timeout: 5 * time.Second}
	e := email.New(
		email.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		}),
		email.WithTLSConfig(srv.ClientTLSConfig()),
	)
	conn := &connectors.Connection{
		ID:      "conn_smtp",
		Config:  map[string]any{"host": srv.Host, "port": float64(srv.Port), "tls": mode, "from": from},
		Secrets: map[string]string{},
	}
	if opts.Username != "" {
		conn.Config["username"] = opts.Username
		conn.Secrets["password"] = opts.Password
	}
	return &bundle{smtp: srv, conn: conn, email: e, dials: dials}
}

func (b *bundle) send(key string, input map[string]any) (map[string]any, error) {
	return b.email.Actions()[0].Execute(context.Background(), connectors.Request{
		Input: input, Connection: b.conn, IdempotencyKey: key, HTTP: &http.Client{Timeout: 5 * time.Second},
	})
}

func welcome() map[string]any {
	return map[string]any{
		"to":      "ada@example.com, Bob Example <bob@example.com>",
		"subject": "Welcome, Ada",
		"text":    "Glad you are here.\nSee you soon.",
	}
}

func TestPlainSend(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)

	out, err := b.send("run_1:welcome", welcome())
	require.NoError(t, err)
	require.Equal(t, "<switchboard.run_1.welcome@example.com>", out["message_id"])
	require.Equal(t, []string{"ada@example.com", "bob@example.com"}, out["accepted"])

	msgs := b.smtp.Messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	require.False(t, m.TLS)
	require.Equal(t, "noreply@example.com", m.From)
	require.Equal(t, []string{"ada@example.com", "bob@example.com"}, m.To)
	require.Equal(t, "Welcome, Ada", m.Subject)
	require.Equal(t, "Glad you are here.\nSee you soon.\n", m.Text)
	require.Empty(t, m.HTML)
	require.Equal(t, "<switchboard.run_1.welcome@example.com>", m.Header.Get("Message-ID"))
	require.Equal(t, "1.0", m.Header.Get("MIME-Version"))
	require.Equal(t, "text/plain; charset=utf-8", m.Header.Get("Content-Type"))
	fromHdr, err := mail.ParseAddress(m.Header.Get("From"))
	require.NoError(t, err)
	require.Equal(t, "Switchboard", fromHdr.Name)
	toHdr, err := m.Header.AddressList("To")
	require.NoError(t, err)
	require.Len(t, toHdr, 2)
	require.Equal(t, "Bob Example", toHdr[1].Name)
	date, err := m.Header.Date()
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), date, time.Minute)
	require.NotContains(t, string(m.Data), "\n\n", "line ends are CRLF")
}

func TestPlainAuthToLoopback(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{Username: user, Password: password}, email.TLSNone)

	_, err := b.send("k", welcome())
	require.NoError(t, err)
	msgs := b.smtp.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, user, msgs[0].AuthUser)
}

func TestPlainAuthToRemoteHostIsRefusedBeforeDialing(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)
	b.conn.Config["host"] = "smtp.example.com"
	b.conn.Config["username"] = user
	b.conn.Secrets["password"] = password

	_, err := b.send("k", welcome())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "unencrypted")
	require.Contains(t, perm.Message, "starttls")
	require.NotContains(t, perm.Message, password)
	require.Zero(t, b.dials.Load())
}

func TestStartTLSWithAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{Username: user, Password: password, StartTLS: true, RequireTLS: true}, email.TLSStartTLS)

	_, err := b.send("k", welcome())
	require.NoError(t, err)
	msgs := b.smtp.Messages()
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].TLS)
	require.Equal(t, user, msgs[0].AuthUser)
	require.Equal(t, int32(1), b.dials.Load(), "the connector dials through the given dialer")
}

func TestStartTLSRequiredButNotOffered(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSStartTLS)

	_, err := b.send("k", welcome())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "does not offer STARTTLS")
	require.Empty(t, b.smtp.Messages())
}

func TestUntrustedCertificateIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{StartTLS: true}, email.TLSStartTLS)
	b.email = email.New() // system roots only: the fake's certificate is unknown

	_, err := b.send("k", welcome())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "certificate")
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{Username: user, Password: password, ImplicitTLS: true}, email.TLSImplicit)

	_, err := b.send("k", welcome())
	require.NoError(t, err)
	msgs := b.smtp.Messages()
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].TLS)
	require.Equal(t, user, msgs[0].AuthUser)
}

func TestImplicitTLSAgainstAPlainServerIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSImplicit)

	_, err := b.send("k", welcome())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "did not answer with TLS")
}

func TestAuthFailureIsPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{Username: user, Password: password, StartTLS: true}, email.TLSStartTLS)
	b.conn.Secrets["password"] = "wrong-password-value"

	_, err := b.send("k", welcome())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "535")
	require.Contains(t, perm.Message, "Authentication failed")
	require.NotContains(t, perm.Message, "wrong-password-value")
	require.Empty(t, b.smtp.Messages())
}

func TestRejectedRecipientIsPermanentAndNothingIsSent(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)
	b.smtp.RejectRecipient("bob@example.com")

	_, err := b.send("k", welcome())
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "550")
	require.Contains(t, perm.Message, "bob@example.com")
	require.Contains(t, perm.Message, "mailbox unavailable")
	require.Empty(t, b.smtp.Messages(), "no partial delivery to ada")
}

func TestTransientFailureIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)
	b.smtp.FailNext(1)

	_, err := b.send("run_1:welcome", welcome())
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	_, limited := connectors.AsRateLimited(err)
	require.False(t, limited)
	require.Contains(t, err.Error(), "421")

	out, err := b.send("run_1:welcome", welcome())
	require.NoError(t, err)
	require.Equal(t, "<switchboard.run_1.welcome@example.com>", out["message_id"], "a retry keeps the Message-ID")
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)
	// Not the closed fake's port: a test running in parallel may be given it
	// for its own server.
	b.conn.Config["port"] = float64(closedPort(t))

	_, err := b.send("k", welcome())
	require.Error(t, err)
	require.False(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "connect to")
}

// closedPort returns a loopback port that nothing listens on and nothing can
// start listening on until the test ends: the local port of an open
// connection.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c.LocalAddr().(*net.TCPAddr).Port
}

func TestEgressRefusalStaysPermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)
	b.email = email.New(email.WithDialer(func(context.Context, string, string) (net.Conn, error) {
		return nil, &connectors.EgressError{Reason: "loopback"}
	}))

	_, err := b.send("k", welcome())
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "egress")
}

func TestMultipartAlternativeWithEncodedSubject(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)
	subject := "Grüße aus Zürich 👋 — " + strings.TrimSpace(strings.Repeat("ünïcødé ", 12))
	text := "Hallo Ada,\nschön, dass du da bist. Ein Gleichheitszeichen: = und eine lange Zeile " + strings.Repeat("x", 120)
	html := `<p style="color: red">Hallo <b>Ada</b> — schön!</p>`

	_, err := b.send("run_9:mail", map[string]any{"to": []any{"ada@example.com"}, "subject": subject, "text": text, "html": html})
	require.NoError(t, err)

	m := b.smtp.Messages()[0]
	require.Equal(t, subject, m.Subject)
	require.Equal(t, text, m.Text)
	require.Equal(t, html, m.HTML)

	raw := string(m.Data)
	rawSubject := m.Header.Get("Subject")
	require.True(t, strings.HasPrefix(rawSubject, "=?utf-8?q?"), rawSubject)
	for _, line := range strings.Split(raw, "\r\n") {
		require.LessOrEqual(t, len(line), 998)
		for _, c := range []byte(line) {
			require.Less(t, c, byte(0x80), "the message is 7-bit: %q", line)
		}
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	textAt := strings.Index(raw, "Content-Type: text/plain; charset=utf-8")
	htmlAt := strings.Index(raw, "Content-Type: text/html; charset=utf-8")
	require.Positive(t, textAt)
	require.Greater(t, htmlAt, textAt, "plain text first, HTML last (preferred)")
	require.Equal(t, 2, strings.Count(raw, "Content-Transfer-Encoding: quoted-printable"))
	require.Contains(t, raw, "--"+params["boundary"]+"--")
}

func TestHTMLOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)

	_, err := b.send("k", map[string]any{"to": "ada@example.com", "subject": "Hi", "html": "<p>Hi</p>"})
	require.NoError(t, err)
	m := b.smtp.Messages()[0]
	require.Equal(t, "text/html; charset=utf-8", m.Header.Get("Content-Type"))
	require.Equal(t, "<p>Hi</p>\n", m.HTML)
}

func TestSubjectCannotInjectHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{}, email.TLSNone)

	_, err := b.send("k", map[string]any{"to": "ada@example.com", "subject": "Hi\r\nBcc: eve@example.com", "text": "x"})
	require.NoError(t, err)
	m := b.smtp.Messages()[0]
	require.Empty(t, m.Header.Get("Bcc"))
	require.Equal(t, []string{"ada@example.com"}, m.To)
}

func TestBadInputIsPermanentAndNamesTheField(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		mutate func(map[string]any)
		field  string
	}{
		"no to":          {func(in map[string]any) { delete(in, "to") }, "input.to"},
		"bad to":         {func(in map[string]any) { in["to"] = "not an address" }, "input.to"},
		"no subject":     {func(in map[string]any) { in["subject"] = "" }, "input.subject"},
		"no body":        {func(in map[string]any) { delete(in, "text") }, "input.text"},
		"object as text": {func(in map[string]any) { in["text"] = map[string]any{} }, "input.text"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, fake.SMTPOptions{}, email.TLSNone)
			in := welcome()
			tc.mutate(in)
			_, err := b.send("k", in)
			var perm *connectors.PermanentError
			require.ErrorAs(t, err, &perm)
			require.Contains(t, perm.Message, tc.field)
			require.Zero(t, b.dials.Load())
		})
	}
}

func TestBadConnectionIsPermanent(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		mutate func(*connectors.Connection)
		field  string
	}{
		"no host":          {func(c *connectors.Connection) { delete(c.Config, "host") }, "config.host"},
		"host with port":   {func(c *connectors.Connection) { c.Config["host"] = "smtp.example.com:587" }, "config.host"},
		"bad tls":          {func(c *connectors.Connection) { c.Config["tls"] = "ssl" }, "config.tls"},
		"bad port":         {func(c *connectors.Connection) { c.Config["port"] = float64(70000) }, "config.port"},
		"no from":          {func(c *connectors.Connection) { delete(c.Config, "from") }, "config.from"},
		"bad from":         {func(c *connectors.Connection) { c.Config["from"] = "nobody" }, "config.from"},
		"user, no secrets": {func(c *connectors.Connection) { c.Config["username"] = "u" }, "secrets.password"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, fake.SMTPOptions{}, email.TLSNone)
			tc.mutate(b.conn)
			_, err := b.send("k", welcome())
			var perm *connectors.PermanentError
			require.ErrorAs(t, err, &perm)
			require.Contains(t, perm.Message, tc.field)
			require.Zero(t, b.dials.Load())
		})
	}
}

func TestDefaultPortFollowsTheTLSMode(t *testing.T) {
	t.Parallel()
	for mode, port := range map[string]string{email.TLSStartTLS: "587", email.TLSImplicit: "465", email.TLSNone: "25"} {
		var dialed string
		e := email.New(email.WithDialer(func(_ context.Context, _, addr string) (net.Conn, error) {
			dialed = addr
			return nil, errors.New("no network in this test")
		}))
		conn := &connectors.Connection{Config: map[string]any{"host": "smtp.example.com", "tls": mode, "from": "a@example.com"}}
		err := e.TestConnection(context.Background(), conn, nil)
		require.Error(t, err)
		require.False(t, connectors.IsPermanent(err))
		require.Equal(t, "smtp.example.com:"+port, dialed, mode)
	}
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, fake.SMTPOptions{Username: user, Password: password, StartTLS: true, RequireTLS: true}, email.TLSStartTLS)
	require.NoError(t, b.email.TestConnection(context.Background(), b.conn, nil))
	require.Empty(t, b.smtp.Messages())

	b.conn.Secrets["password"] = "nope"
	err := b.email.TestConnection(context.Background(), b.conn, nil)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "535")
}

// stallServer listens on loopback and runs script on each connection it
// accepts; when script returns, the connection stays open and silent until
// the test ends. Cleanup closes the listener and every connection and waits
// for the scripts.
func stallServer(t *testing.T, script func(c *textproto.Conn)) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				if script != nil {
					script(textproto.NewConn(c))
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	tcp := ln.Addr().(*net.TCPAddr)
	return tcp.IP.String(), tcp.Port
}

// reply greets and answers the client's commands ("250 OK" unless answers
// has another reply for the verb) until the command stallAt: it gets its
// answer from answers, if any, and then the server falls silent.
func reply(stallAt string, answers map[string]string) func(c *textproto.Conn) {
	return func(c *textproto.Conn) {
		if c.PrintfLine("220 localhost ESMTP") != nil {
			return
		}
		for {
			line, err := c.ReadLine()
			if err != nil {
				return
			}
			verb := strings.ToUpper(strings.Fields(line + " x")[0])
			answer, ok := answers[verb]
			if !ok && verb != stallAt {
				answer, ok = "250 OK", true
			}
			if ok {
				if _, err := c.W.WriteString(answer + "\r\n"); err != nil {
					return
				}
				if c.W.Flush() != nil {
					return
				}
			}
			if verb == stallAt {
				return
			}
		}
	}
}

// stallTimeout is the context deadline of the stall tests; each session
// must end within stallSlack after it.
const (
	stallTimeout = 300 * time.Millisecond
	stallSlack   = 3 * time.Second
)

func stallConnection(host string, port int, mode string) *connectors.Connection {
	return &connectors.Connection{Config: map[string]any{
		"host": host, "port": strconv.Itoa(port), "tls": mode, "from": "a@example.com",
	}}
}

// noDeadlineConn ignores deadlines, like some wrapped connections do.
type noDeadlineConn struct{ net.Conn }

func (noDeadlineConn) SetDeadline(time.Time) error      { return nil }
func (noDeadlineConn) SetReadDeadline(time.Time) error  { return nil }
func (noDeadlineConn) SetWriteDeadline(time.Time) error { return nil }

// TestStalledSessionsEndWithTheContext sends through servers that stop
// answering at each step of a session (and through a dialer that ignores
// the context, and a connection that ignores deadlines): every send must
// fail with a retryable error caused by the context, right after its
// deadline or cancellation. The sessions run at the same time so the test
// takes one stallTimeout whatever -parallel is.
func TestStalledSessionsEndWithTheContext(t *testing.T) {
	t.Parallel()
	ehlo := "250-localhost\r\n250-STARTTLS\r\n250 AUTH PLAIN"
	d := &net.Dialer{Timeout: 5 * time.Second}
	noDeadlines := email.New(email.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return noDeadlineConn{c}, nil
	}))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stuckDialer := email.New(email.WithDialer(func(context.Context, string, string) (net.Conn, error) {
		<-release
		return nil, errors.New("released")
	}))

	type stall struct {
		name     string
		mode     string
		script   func(*textproto.Conn) // the server's part; nil: never speaks
		email    *email.Email          // nil: email.New()
		cancel   bool                  // cancel the context instead of a deadline
		contains string
	}
	stalls := []stall{
		{name: "no greeting", mode: email.TLSNone, contains: "greeting"},
		{name: "no TLS handshake", mode: email.TLSImplicit, contains: "TLS handshake"},
		{name: "no EHLO reply", mode: email.TLSNone, script: reply("EHLO", nil), contains: "EHLO"},
		{name: "no STARTTLS handshake", mode: email.TLSStartTLS, contains: "STARTTLS",
			script: reply("STARTTLS", map[string]string{"EHLO": ehlo, "STARTTLS": "220 go ahead"})},
		{name: "no MAIL reply", mode: email.TLSNone, script: reply("MAIL", nil), contains: "MAIL FROM"},
		{name: "no RCPT reply", mode: email.TLSNone, script: reply("RCPT", nil), contains: "RCPT TO"},
		{name: "no reply to the message", mode: email.TLSNone, contains: "DATA",
			script: reply("DATA", map[string]string{"DATA": "354 go ahead"})},
		{name: "cancelled", mode: email.TLSNone, cancel: true, contains: "greeting"},
		{name: "connection ignores deadlines", mode: email.TLSNone, script: reply("MAIL", nil),
			email: noDeadlines, contains: "MAIL FROM"},
		{name: "dialer ignores the context", mode: email.TLSNone, email: stuckDialer, contains: "connect to"},
	}

	type result struct {
		err     error
		elapsed time.Duration
	}
	results := make([]result, len(stalls))
	var wg sync.WaitGroup
	for i, st := range stalls {
		host, port := stallServer(t, st.script)
		e := st.email
		if e == nil {
			e = email.New()
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), stallTimeout)
		if st.cancel {
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(stallTimeout, cancel)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			_, err := e.Actions()[0].Execute(ctx, connectors.Request{
				Input: welcome(), Connection: stallConnection(host, port, st.mode), IdempotencyKey: "k",
			})
			results[i] = result{err, time.Since(start)}
		}()
	}
	ended := make(chan struct{})
	go func() {
		wg.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(stallTimeout + 2*stallSlack):
		t.Fatal("a stalled session did not end with its context")
	}

	for i, st := range stalls {
		t.Run(st.name, func(t *testing.T) {
			err := results[i].err
			require.Error(t, err)
			require.False(t, connectors.IsPermanent(err), "%v", err)
			var retry *connectors.RetryableError
			require.ErrorAs(t, err, &retry)
			cause := context.DeadlineExceeded
			if st.cancel {
				cause = context.Canceled
			}
			require.ErrorIs(t, err, cause)
			require.Contains(t, err.Error(), st.contains)
			require.Less(t, results[i].elapsed, stallTimeout+stallSlack)
		})
	}
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "<switchboard.run.step@example.com>", email.MessageID("run:step", "a@example.com"))
	require.Equal(t, "<switchboard.0193a0c4-7f5e.welcome.email@example.com>", email.MessageID("0193a0c4-7f5e:welcome email", "a@example.com"))
	long := email.MessageID(strings.Repeat("k", 300), "a@example.com")
	require.Equal(t, long, email.MessageID(strings.Repeat("k", 300), "a@example.com"))
	require.Less(t, len(long), 120)
	r1, r2 := email.MessageID("", "a@example.com"), email.MessageID("", "a@example.com")
	require.NotEqual(t, r1, r2)
	for _, id := range []string{r1, long, email.MessageID("a b<c>@d", "x")} {
		_, err := mail.ParseAddress("x " + id) // a Message-ID parses like an angle address
		require.NoError(t, err, id)
	}
}

func TestSpec(t *testing.T) {
	t.Parallel()
	c := email.New()
	require.Equal(t, "email", c.Key())
	var keys []string
	for _, f := range c.AuthFields() {
		keys = append(keys, f.Key)
	}
	require.Equal(t, []string{"host", "port", "tls", "from", "username", "password"}, keys)
	require.True(t, c.AuthFields()[5].Secret)
	spec := c.Actions()[0].Spec()
	require.Equal(t, "email.send", spec.Key)
	keys = nil
	for _, f := range spec.Fields {
		keys = append(keys, f.Key)
		require.NotEmpty(t, f.Help)
	}
	require.Equal(t, []string{"to", "subject", "text", "html"}, keys)
	require.Equal(t, "message_id", spec.Outputs[0].Key)
	require.Equal(t, "accepted", spec.Outputs[1].Key)
	var _ connectors.Tester = c
}
