package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard/switchboard/connectors/fake"
)

// Demo credentials the fakes accept. They are printed for pasting into
// connections and are worthless anywhere else.
const (
	fakeSlackToken    = "xoxb-fake-0000-demo"
	fakeMailchimpKey  = "fakedemo0000000000000000000000000-us1"
	fakeSegmentKey    = "fake-segment-write-key"
	fakeMixpanelToken = "fake-mixpanel-project-token"
	fakePostHogKey    = "phc_fake_demo_project_key"
	fakeJiraEmail     = "demo@example.com"
	fakeJiraToken     = "fake-jira-api-token"
	fakeSMTPUser      = "demo"
	fakeSMTPPassword  = "fake-smtp-password"
	fakeMailchimpList = "demo"
	fakeJiraProject   = "DEMO"
)

// fakeServerShutdown is how long a fake may take to finish its requests.
const fakeServerShutdown = 5 * time.Second

// fakeService is one fake served by `switchboard fakes`.
type fakeService struct {
	Name      string // "Slack"
	Connector string // "slack"
	BaseURL   string // config.base_url ("" for SMTP)
	// Connection is what to paste into a connection of Connector.
	Connection string
	Notes      string
}

// fakesCmd serves every connector fake on loopback until ctx is done, on
// consecutive ports from --addr, and prints how to connect to them.
func fakesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9900", "loopback address of the first fake; the others take the next ports (port 0: any free ports)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("fakes: unexpected argument %q (usage: switchboard fakes [--addr 127.0.0.1:9900])", fs.Arg(0))
	}
	running, err := startFakes(*addr)
	if err != nil {
		return err
	}
	defer running.Close()
	printFakes(stdout, running.Services)
	<-ctx.Done()
	return nil
}

// runningFakes are started fakes and how to stop them.
type runningFakes struct {
	Services []fakeService
	closers  []func()
}

// Close stops every fake.
func (r *runningFakes) Close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// startFakes starts the fakes on addr's host, from addr's port upwards (or on
// free ports when it is 0). The host must be a loopback address: the fakes
// accept fixed, published credentials.
func startFakes(addr string) (_ *runningFakes, err error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("fakes: --addr must be host:port such as 127.0.0.1:9900, got %q", addr)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("fakes: --addr must be on loopback (127.0.0.1 or ::1), got %q", addr)
	}
	first, err := strconv.Atoi(portText)
	if err != nil || first < 0 || first > 65535-6 {
		return nil, fmt.Errorf("fakes: --addr port must be from 0 to 65529, got %q", portText)
	}
	next := 0
	nextAddr := func() string {
		p := 0
		if first != 0 {
			p = first + next
		}
		next++
		return net.JoinHostPort(ip.String(), strconv.Itoa(p))
	}

	r := &runningFakes{}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	// serve listens on the next port and returns the server's root URL.
	serve := func(h http.Handler) (string, error) {
		a := nextAddr()
		ln, err := net.Listen("tcp", a)
		if err != nil {
			return "", fmt.Errorf("fakes: %w (choose another --addr)", err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		r.closers = append(r.closers, func() {
			ctx, cancel := context.WithTimeout(context.Background(), fakeServerShutdown)
			defer cancel()
			_ = srv.Shutdown(ctx)
		})
		return "http://" + ln.Addr().String(), nil
	}

	slack := fake.NewSlackHandler(fakeSlackToken)
	if slack.URL, err = serve(slack); err != nil {
		return nil, err
	}
	r.Services = append(r.Services, fakeService{Name: "Slack", Connector: "slack", BaseURL: slack.BaseURL(),
		Connection: "secrets.token=" + fakeSlackToken, Notes: "channels #general, #signups"})

	mailchimp := fake.NewMailchimpHandler(fakeMailchimpKey)
	mailchimp.AddList(fakeMailchimpList)
	if mailchimp.URL, err = serve(mailchimp); err != nil {
		return nil, err
	}
	r.Services = append(r.Services, fakeService{Name: "Mailchimp", Connector: "mailchimp", BaseURL: mailchimp.BaseURL(),
		Connection: "secrets.api_key=" + fakeMailchimpKey, Notes: "audience (list id) " + fakeMailchimpList})

	segment := fake.NewSegmentHandler(fakeSegmentKey)
	if segment.URL, err = serve(segment); err != nil {
		return nil, err
	}
	r.Services = append(r.Services, fakeService{Name: "Segment", Connector: "segment", BaseURL: segment.BaseURL(),
		Connection: "secrets.write_key=" + fakeSegmentKey, Notes: "like Segment, answers 200 to wrong write keys too"})

	mixpanel := fake.NewMixpanelHandler(fakeMixpanelToken)
	if mixpanel.URL, err = serve(mixpanel); err != nil {
		return nil, err
	}
	r.Services = append(r.Services, fakeService{Name: "Mixpanel", Connector: "mixpanel", BaseURL: mixpanel.BaseURL(),
		Connection: "secrets.project_token=" + fakeMixpanelToken})

	posthog := fake.NewPostHogHandler(fakePostHogKey)
	if posthog.URL, err = serve(posthog); err != nil {
		return nil, err
	}
	r.Services = append(r.Services, fakeService{Name: "PostHog", Connector: "posthog", BaseURL: posthog.BaseURL(),
		Connection: "secrets.api_key=" + fakePostHogKey})

	jira := fake.NewJiraHandler(fakeJiraEmail, fakeJiraToken)
	jira.AddProject(fakeJiraProject)
	if jira.URL, err = serve(jira); err != nil {
		return nil, err
	}
	r.Services = append(r.Services, fakeService{Name: "Jira", Connector: "jira", BaseURL: jira.BaseURL(),
		Connection: "secrets.email=" + fakeJiraEmail + " secrets.api_token=" + fakeJiraToken, Notes: "project " + fakeJiraProject})

	smtpAddr := nextAddr()
	smtp, err := fake.NewSMTP(fake.SMTPOptions{Username: fakeSMTPUser, Password: fakeSMTPPassword, ListenAddr: smtpAddr})
	if err != nil {
		return nil, fmt.Errorf("fakes: SMTP on %s: %w (choose another --addr)", smtpAddr, err)
	}
	r.closers = append(r.closers, smtp.Close)
	r.Services = append(r.Services, fakeService{Name: "Email (SMTP)", Connector: "email",
		Connection: fmt.Sprintf("config.host=%s config.port=%d config.tls=none config.from=switchboard@example.com config.username=%s secrets.password=%s",
			smtp.Host, smtp.Port, fakeSMTPUser, fakeSMTPPassword),
		Notes: "accepts any recipient"})
	return r, nil
}

// printFakes prints the table of fakes and what to do with it.
func printFakes(w io.Writer, services []fakeService) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tCONNECTOR\tBASE_URL (config.base_url)\tNOTES\tCONNECTION")
	for _, s := range services {
		base := s.BaseURL
		if base == "" {
			base = "-"
		}
		notes := s.Notes
		if notes == "" {
			notes = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Connector, base, notes, s.Connection)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, strings.TrimSpace(`
These fakes answer like the real APIs and accept only the demo credentials above.
Start the server with SWITCHBOARD_EGRESS_ALLOW=127.0.0.0/8 so connectors may reach
loopback, and set each connection's config.base_url as shown. Ctrl-C stops the fakes.`))
}
