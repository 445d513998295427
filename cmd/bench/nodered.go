package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The peer: Node-RED 4 with the flow http in → http request → http response,
// calling the same fake. It is not durable (nothing is stored before it
// answers), so it is the speed of a plain synchronous relay.

const noderedFlow = `[
 {"id":"bench_tab","type":"tab","label":"bench"},
 {"id":"bench_in","type":"http in","z":"bench_tab","name":"hook","url":"/hook","method":"post","upload":false,"swaggerDoc":"","wires":[["bench_req"]]},
 {"id":"bench_req","type":"http request","z":"bench_tab","name":"call","method":"POST","ret":"txt","paytoqs":"ignore",
  "url":"%s","tls":"","persist":true,"proxy":"","insecureHTTPParser":false,"authType":"","senderr":false,"headers":[],"wires":[["bench_res"]]},
 {"id":"bench_res","type":"http response","z":"bench_tab","name":"","statusCode":"","headers":{},"wires":[]}
]`

const noderedSettings = `module.exports = {
    uiHost: "127.0.0.1",
    uiPort: %d,
    userDir: %q,
    flowFile: "flows.json",
    credentialSecret: false,
    httpAdminRoot: false,
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    externalModules: { autoInstall: false },
    logging: { console: { level: "warn", metrics: false, audit: false } }
};
`

// ensureNodeRED returns the path of red.js, installing node-red@4 with npm
// into the -nodered folder (outside the repository) when it is missing.
func (b *bench) ensureNodeRED(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", errors.New("node is not installed; peer skipped")
	}
	dir := b.o.noderedDir
	red := filepath.Join(dir, "node_modules", "node-red", "red.js")
	if _, err := os.Stat(red); err == nil {
		return red, nil
	}
	if abs, err := filepath.Abs(dir); err == nil && strings.HasPrefix(abs+"/", b.root+"/") {
		return "", fmt.Errorf("-nodered %s is inside the repository; choose a folder outside it", dir)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", errors.New("npm is not installed; peer skipped")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	logf("peer: npm install node-red@4 in %s", dir)
	ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ictx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "node-red@4")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm install node-red@4 failed (%v): %s", err, lastLines(string(out), 3))
	}
	if _, err := os.Stat(red); err != nil {
		return "", fmt.Errorf("npm install node-red@4 left no %s", red)
	}
	return red, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func (b *bench) phasePeer(ctx context.Context) error {
	p := &b.res.Peer
	red, err := b.ensureNodeRED(ctx)
	if err != nil {
		return err
	}
	if pkg, err := os.ReadFile(filepath.Join(filepath.Dir(red), "package.json")); err == nil {
		var v struct{ Version string }
		_ = json.Unmarshal(pkg, &v)
		b.res.Machine.NodeRED = v.Version
	}
	if v, err := exec.Command("node", "--version").Output(); err == nil {
		b.res.Machine.Node = strings.TrimSpace(string(v))
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	_, portStr, _ := strings.Cut(addr, ":")
	port, _ := strconv.Atoi(portStr)
	user := filepath.Join(b.tmp, "nodered")
	if err := os.MkdirAll(user, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(user, "settings.js"), fmt.Appendf(nil, noderedSettings, port, user), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(user, "flows.json"), fmt.Appendf(nil, noderedFlow, b.fake.URL+"/hit/nodered"), 0o644); err != nil {
		return err
	}
	logPath := filepath.Join(b.tmp, "nodered.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command("node", red, "--settings", filepath.Join(user, "settings.js"), "--userDir", user)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(exited) }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	hook := "http://" + addr + "/hook"
	logf("peer: starting Node-RED %s (node %s) on %s", b.res.Machine.NodeRED, b.res.Machine.Node, addr)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Post(hook, "application/json", bytes.NewReader(hookBody(time.Now())))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("Node-RED exited during start: %s", lastLines(tail(logPath, 5), 5))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Node-RED not answering on %s after 90s: %s", hook, lastLines(tail(logPath, 5), 5))
		}
	}
	pid := cmd.Process.Pid
	time.Sleep(2 * time.Second)
	p.RSSIdle, _ = procStatus(pid, "VmRSS")

	warm := closedLoop(ctx, b.client, hook, 4, 200, time.Time{}, http.StatusOK)
	if warm.Refused > 0 {
		return fmt.Errorf("Node-RED warm-up: %d of %d refused (first: %s)", warm.Refused, warm.Sent, warm.FirstErr)
	}
	calls0 := b.fake.calls("nodered")
	cpu0 := cpuSeconds(pid)
	lr := closedLoop(ctx, b.client, hook, concurrency, b.sz.peerRequests, time.Time{}, http.StatusOK)
	cpu := cpuSeconds(pid) - cpu0
	p.Requests, p.OK, p.Failed = lr.Sent, lr.Accepted, lr.Refused
	p.Rate = lr.rate()
	p.P50, p.P99 = percentile(lr.Latency, 50), percentile(lr.Latency, 99)
	p.CPUPer1000 = cpu / float64(max(lr.Accepted, 1)) * 1000
	p.FakeCalls = b.fake.calls("nodered") - calls0
	p.RSSHWM, _ = procStatus(pid, "VmHWM")
	logf("peer: Node-RED %d requests at %d connections: %d OK in %s = %.0f req/s (p50 %.1f ms, p99 %.1f ms; %.2f CPU-s per 1,000; peak RSS %.1f MiB)",
		lr.Sent, concurrency, lr.Accepted, lr.duration().Round(time.Millisecond), p.Rate, ms(p.P50), ms(p.P99), p.CPUPer1000, mib(p.RSSHWM))
	if lr.Refused > 0 {
		logf("peer: first failure: %s", lr.FirstErr)
	}
	return nil
}
