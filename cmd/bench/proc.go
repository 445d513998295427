package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on every
// Linux architecture Go supports).
const clockTicks = 100

// procStatus reads a "Vm…" line of /proc/<pid>/status in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, field+":") {
			continue
		}
		fs := strings.Fields(line[len(field)+1:])
		if len(fs) < 1 {
			break
		}
		kb, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return 0, err
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// procStat holds the fields of /proc/<pid>/stat that bench reads.
type procStat struct {
	ppid           int
	utime, stime   int64 // ticks
	cutime, cstime int64 // ticks of waited-for children
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) may hold spaces; the fields after it start
	// after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	fs := strings.Fields(s[i+1:])
	// fs[0] is field 3 (state): field n is fs[n-3].
	if len(fs) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	num := func(n int) int64 { v, _ := strconv.ParseInt(fs[n-3], 10, 64); return v }
	return procStat{ppid: int(num(4)), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17)}, nil
}

// cpuSeconds is a process's user+system CPU time.
func cpuSeconds(pid int) float64 {
	st, err := readProcStat(pid)
	if err != nil {
		return 0
	}
	return float64(st.utime+st.stime) / clockTicks
}

// treeCPUSeconds is the CPU time of a process, its live children, and its
// children that exited (Postgres backends come and go).
func treeCPUSeconds(pid int) float64 {
	st, err := readProcStat(pid)
	if err != nil {
		return 0
	}
	total := st.utime + st.stime + st.cutime + st.cstime
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		cs, err := readProcStat(child)
		if err != nil || cs.ppid != pid {
			continue
		}
		total += cs.utime + cs.stime
	}
	return float64(total) / clockTicks
}

// postmasterPID reads line 1 of postmaster.pid in the cluster folder.
func postmasterPID(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// rssMonitor samples a process's VmRSS and keeps the largest value per phase.
type rssMonitor struct {
	pid  int
	mu   sync.Mutex
	cur  string
	max  map[string]int64
	stop chan struct{}
	done chan struct{}
}

func startRSSMonitor(pid int, every time.Duration) *rssMonitor {
	m := &rssMonitor{pid: pid, max: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				rss, err := procStatus(pid, "VmRSS")
				if err != nil {
					continue
				}
				m.mu.Lock()
				if rss > m.max[m.cur] {
					m.max[m.cur] = rss
				}
				if rss > m.max["*"] {
					m.max["*"] = rss
				}
				m.mu.Unlock()
			}
		}
	}()
	return m
}

func (m *rssMonitor) phase(name string) {
	m.mu.Lock()
	m.cur = name
	m.mu.Unlock()
}

// peak returns the largest sample of a phase ("*": of all).
func (m *rssMonitor) peak(name string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.max[name]
}

func (m *rssMonitor) close() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
		<-m.done
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// machine describes where the bench ran.
type machine struct {
	CPUs     int
	CPUModel string
	MemTotal int64
	Kernel   string
	Go       string
	Postgres string
	NodeRED  string
	Node     string
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			fs := strings.Fields(line)
			if len(fs) >= 2 {
				kb, _ := strconv.ParseInt(fs[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// machineCPU returns the machine's busy and total CPU seconds from /proc/stat.
func machineCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fs := strings.Fields(line)
	if len(fs) < 8 || fs[0] != "cpu" {
		return 0, 0
	}
	var sum, idle int64
	for i, f := range fs[1:] {
		if i >= 8 { // guest time is already counted in user
			break
		}
		v, _ := strconv.ParseInt(f, 10, 64)
		sum += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return float64(sum-idle) / clockTicks, float64(sum) / clockTicks
}

// cpuMeter measures, over an interval, the CPU used by the whole machine and
// by the processes under test, so that load from anything else shows.
type cpuMeter struct {
	pids         func() (server, postgres int)
	busy0, ours0 float64
	start        time.Time
}

func (m *cpuMeter) ours() float64 {
	server, pg := m.pids()
	return cpuSeconds(os.Getpid()) + cpuSeconds(server) + treeCPUSeconds(pg) + childrenCPUSeconds()
}

// childrenCPUSeconds is the CPU of processes the bench started (Node-RED).
func childrenCPUSeconds() float64 {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		return 0
	}
	return float64(st.cutime+st.cstime) / clockTicks
}

func startCPUMeter(pids func() (int, int)) *cpuMeter {
	m := &cpuMeter{pids: pids, start: time.Now()}
	m.busy0, _ = machineCPU()
	m.ours0 = m.ours()
	return m
}

// other returns the CPU seconds used by other processes since the start and
// the interval's length.
func (m *cpuMeter) other() (float64, time.Duration) {
	busy, _ := machineCPU()
	return max((busy-m.busy0)-(m.ours()-m.ours0), 0), time.Since(m.start)
}

// waitQuiet waits until other processes use less than limit of one CPU over a
// 5-second window, or until timeout; it returns the last measured load.
func waitQuiet(timeout time.Duration, limit float64) (float64, bool) {
	deadline := time.Now().Add(timeout)
	for {
		b0, _ := machineCPU()
		self0 := cpuSeconds(os.Getpid())
		time.Sleep(5 * time.Second)
		b1, _ := machineCPU()
		load := ((b1 - b0) - (cpuSeconds(os.Getpid()) - self0)) / 5
		if load < limit {
			return load, true
		}
		if time.Now().After(deadline) {
			return load, false
		}
		logf("waiting for a quiet machine: other processes use %.2f CPUs", load)
	}
}
