package main

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// config is everything Switchboard reads from its environment, parsed once.
type config struct {
	DatabaseURL string
	DataDir     string
	Addr        string
	BaseURL     string
	SecretKey   []byte // nil: generated into DataDir/secret.key
	// OldSecretKeys still open secrets sealed before a rotation
	// (SWITCHBOARD_OLD_SECRET_KEYS, comma-separated base64).
	OldSecretKeys [][]byte
	EgressAllow   []netip.Prefix
	Workers       int
	MaxBody       int64
	LogLevel      string
	// RescueAfter is how long a step job may stay running before River
	// assumes its worker died and runs it again.
	RescueAfter time.Duration
	// RunRetention is how long run history is kept (SWITCHBOARD_RUN_RETENTION).
	RunRetention time.Duration
}

// parseConfig reads the environment table of DESIGN.md. Every error is one line
// naming the variable, what it must be, and what it got.
func parseConfig(getenv func(string) string) (config, error) {
	c := config{
		DatabaseURL:  strings.TrimSpace(getenv("DATABASE_URL")),
		DataDir:      orDefault(getenv("SWITCHBOARD_DATA"), "./data"),
		Addr:         orDefault(getenv("SWITCHBOARD_ADDR"), ":8080"),
		BaseURL:      strings.TrimRight(orDefault(getenv("SWITCHBOARD_BASE_URL"), "http://localhost:8080"), "/"),
		Workers:      100,
		MaxBody:      1 << 20,
		LogLevel:     orDefault(getenv("SWITCHBOARD_LOG_LEVEL"), "info"),
		RescueAfter:  6 * time.Minute,
		RunRetention: 30 * 24 * time.Hour,
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			if !strings.Contains(c.DatabaseURL, "=") { // key=value DSNs are fine too
				return c, fmt.Errorf("DATABASE_URL: must be a postgres:// URL or a key=value connection string")
			}
		}
	}
	if _, _, err := splitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("SWITCHBOARD_ADDR: must be host:port or :port, got %q", c.Addr)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("SWITCHBOARD_BASE_URL: must be an absolute http(s) URL, got %q", c.BaseURL)
	}
	if v := strings.TrimSpace(getenv("SWITCHBOARD_SECRET_KEY")); v != "" {
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) != 32 {
			return c, fmt.Errorf("SWITCHBOARD_SECRET_KEY: must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
		}
		c.SecretKey = key
	}
	for i, v := range strings.Split(getenv("SWITCHBOARD_OLD_SECRET_KEYS"), ",") {
		if strings.TrimSpace(v) == "" {
			continue
		}
		k, err := decodeKey(v)
		if err != nil {
			// Name the position, never the value.
			return c, fmt.Errorf("SWITCHBOARD_OLD_SECRET_KEYS: entry %d %v", i+1, err)
		}
		c.OldSecretKeys = append(c.OldSecretKeys, k)
	}
	if c.EgressAllow, err = connectors.ParseAllowList(getenv("SWITCHBOARD_EGRESS_ALLOW")); err != nil {
		return c, err // already names the variable
	}
	if v := strings.TrimSpace(getenv("SWITCHBOARD_WORKERS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return c, fmt.Errorf("SWITCHBOARD_WORKERS: must be a whole number from 1 to 10000, got %q", v)
		}
		c.Workers = n
	}
	if v := strings.TrimSpace(getenv("SWITCHBOARD_MAX_BODY")); v != "" {
		n, err := parseSize(v)
		if err != nil || n < 1024 || n > 100<<20 {
			return c, fmt.Errorf("SWITCHBOARD_MAX_BODY: must be a size from 1KiB to 100MiB such as 1MiB or 512KB, got %q", v)
		}
		c.MaxBody = n
	}
	if v := strings.TrimSpace(getenv("SWITCHBOARD_RESCUE_AFTER")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return c, fmt.Errorf("SWITCHBOARD_RESCUE_AFTER: must be a duration of at least 1s such as 6m, got %q", v)
		}
		c.RescueAfter = d
	}
	if v := strings.TrimSpace(getenv("SWITCHBOARD_RUN_RETENTION")); v != "" {
		d, err := parseRetention(v)
		if err != nil || d < time.Hour {
			return c, fmt.Errorf("SWITCHBOARD_RUN_RETENTION: must be a duration of at least 1h such as 30d or 720h, got %q", v)
		}
		c.RunRetention = d
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c, fmt.Errorf("SWITCHBOARD_LOG_LEVEL: must be debug, info, warn or error, got %q", c.LogLevel)
	}
	return c, nil
}

// parseRetention reads a Go duration or a whole number of days ("30d").
func parseRetention(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 36500 {
			return 0, fmt.Errorf("bad days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

func splitHostPort(addr string) (string, int, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("no port")
	}
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("bad port")
	}
	return addr[:i], p, nil
}

// parseSize reads sizes such as 1048576, 512KB, 1MiB, 2MB (KB/MB are taken as
// KiB/MiB, as people mean them for upload limits).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size")
	}
	return n * mult, nil
}
