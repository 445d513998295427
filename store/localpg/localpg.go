// Package localpg runs a private PostgreSQL cluster from the server binaries
// installed on the machine, so that Switchboard works with no database set up by
// hand. The cluster lives in one folder; a second process finds it running there
// (postmaster.pid) and connects to the same server.
package localpg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries can be found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (looked in PATH and /usr/lib/postgresql/*/bin): " +
	"install postgresql (apt-get install postgresql), set DATABASE_URL to a running Postgres, " +
	"or run `docker compose up`")

// Options configure a managed cluster.
type Options struct {
	// Dir is the cluster's data folder (created when missing).
	Dir string
	// Settings are extra server settings passed on the command line
	// (for example fsync=off for tests).
	Settings map[string]string
	// Logger receives one line per start/stop; nil discards.
	Logger *slog.Logger
}

// Server is a running managed cluster.
type Server struct {
	dir     string
	bin     string
	port    int
	started bool // this process started it (and so stops it)
	cred    *syscall.Credential
	log     *slog.Logger
}

// Start initialises the cluster in opts.Dir when it does not exist yet, and starts
// it when it is not already running. A cluster already running in that folder is
// reused (and then not stopped by Stop).
func Start(ctx context.Context, opts Options) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("localpg: %w", err)
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin, log: log}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresCredential(); err != nil {
			return nil, err
		}
	}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	// Two processes starting at once (serve and migrate, two test binaries)
	// must not both run initdb or pg_ctl start on the same folder.
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := s.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if port, ok := s.runningPort(ctx); ok {
		s.port = port
		log.Info("localpg: reusing running postgres", "dir", dir, "port", port)
		return s, s.waitReady(ctx)
	}
	if err := s.start(ctx, opts.Settings); err != nil {
		return nil, err
	}
	s.started = true
	log.Info("localpg: started postgres", "dir", dir, "port", s.port)
	return s, s.waitReady(ctx)
}

// URL returns a connection URL for the given database on this server.
func (s *Server) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port is the TCP port the server listens on (127.0.0.1 only).
func (s *Server) Port() int { return s.port }

// Started reports whether this process started the server (rather than reusing it).
func (s *Server) Started() bool { return s.started }

// Stop stops the server if this process started it; a reused server keeps running.
func (s *Server) Stop(ctx context.Context) error {
	if !s.started {
		return nil
	}
	return s.ForceStop(ctx)
}

// ForceStop stops the server whoever started it (fast shutdown: sessions are
// disconnected, in-flight transactions roll back, data is kept).
func (s *Server) ForceStop(ctx context.Context) error {
	out, err := s.run(ctx, "pg_ctl", "stop", "-D", s.dir, "-m", "fast", "-w", "-t", "60")
	if err != nil {
		return fmt.Errorf("localpg: pg_ctl stop: %w: %s", err, lastLine(out))
	}
	s.started = false
	s.log.Info("localpg: stopped postgres", "dir", s.dir)
	return nil
}

// FindBinaries returns the folder holding initdb, pg_ctl and postgres: first PATH,
// then the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// PATH often holds symlinks into the real bin folder; use that folder.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "pg_ctl")) && isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("localpg: running as root needs a 'postgres' system user to own the cluster (Postgres refuses root): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepareDir creates the cluster folder with the owner and mode initdb and
// postgres demand, and checks the server user can reach it.
func (s *Server) prepareDir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("localpg: create %s: %w", s.dir, err)
	}
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if s.cred == nil {
		return nil
	}
	if err := filepath.Walk(s.dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(s.cred.Uid), int(s.cred.Gid))
	}); err != nil {
		return fmt.Errorf("localpg: chown %s to postgres: %w", s.dir, err)
	}
	// Every parent must be searchable by the postgres user.
	for p := filepath.Dir(s.dir); p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("localpg: the postgres user cannot enter %s (mode %v); choose a SWITCHBOARD_DATA outside it or chmod o+x it", p, fi.Mode().Perm())
		}
	}
	return nil
}

func (s *Server) initdb(ctx context.Context) error {
	out, err := s.run(ctx, "initdb", "-D", s.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--locale=C", "--no-sync")
	if err != nil {
		return fmt.Errorf("localpg: initdb %s: %w: %s", s.dir, err, lastLine(out))
	}
	// Loopback only; the socket lives inside the cluster folder so that no
	// system-wide /var/run/postgresql is needed.
	conf := fmt.Sprintf("\n# managed by switchboard\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_connections = 200\nshared_buffers = 128MB\n", s.dir)
	f, err := os.OpenFile(filepath.Join(s.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(conf); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	return nil
}

func (s *Server) start(ctx context.Context, settings map[string]string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	opts := []string{"-p", strconv.Itoa(port)}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		opts = append(opts, "-c", k+"="+settings[k])
	}
	logFile := filepath.Join(s.dir, "server.log")
	out, err := s.run(ctx, "pg_ctl", "start", "-D", s.dir, "-l", logFile, "-w", "-t", "60", "-o", strings.Join(opts, " "))
	if err != nil {
		return fmt.Errorf("localpg: pg_ctl start: %w: %s (see %s)", err, lastLine(out), logFile)
	}
	s.port = port
	return nil
}

// runningPort reads postmaster.pid of a live server in the folder.
func (s *Server) runningPort(ctx context.Context) (int, bool) {
	if _, err := s.run(ctx, "pg_ctl", "status", "-D", s.dir); err != nil {
		return 0, false
	}
	f, err := os.Open(filepath.Join(s.dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 1; sc.Scan(); i++ {
		if i == 4 { // line 4 of postmaster.pid is the port
			p, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
			return p, err == nil && p > 0
		}
	}
	return 0, false
}

// waitReady waits until the server accepts TCP connections (pg_ctl start -w
// already waited for it to accept sessions; a reused server is checked here).
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localpg: server on %s not reachable: %w", addr, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Server) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
		cmd.Env = append(cmd.Env, "HOME=/var/lib/postgresql")
	}
	// pg_ctl start leaves the postmaster running with our stdout open unless
	// output goes to a file; CombinedOutput on a pipe would block forever.
	f, err := os.CreateTemp("", "localpg-*.out")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	// Detach so that a Ctrl-C to our process group does not kill the server
	// before we stop it properly.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	runErr := cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return out, runErr
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localpg: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("localpg: lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("localpg: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
