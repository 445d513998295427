package flows

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string such as "2s", "10m", "72h" or "1h30m". Reading also accepts a
// leading number of days, as in "7d" or "1d12h".
type Duration time.Duration

// ParseDuration parses a duration string as accepted by Duration's JSON
// form: anything time.ParseDuration accepts, optionally preceded by a whole
// number of days ("7d", "2d6h").
func ParseDuration(s string) (Duration, error) {
	bad := fmt.Errorf("invalid duration %q (use a value like \"30s\", \"10m\", \"24h\" or \"7d\")", s)
	if s == "" {
		return 0, bad
	}
	var days time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || n > math.MaxInt64/uint64(24*time.Hour) {
			return 0, bad
		}
		days = time.Duration(n) * 24 * time.Hour
		rest = s[i+1:]
		if rest == "" {
			return Duration(days), nil
		}
		if rest[0] == '-' || rest[0] == '+' {
			return 0, bad
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	if days > 0 && (d < 0 || d > math.MaxInt64-days) {
		return 0, bad
	}
	return Duration(days + d), nil
}

// String formats the duration compactly: "24h" rather than "24h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a duration string like \"30s\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
