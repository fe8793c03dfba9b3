package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v3/disk"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestFixtures")

// fixtureEpoch is the time of a fixture's step1; each later step is one
// second after the one before, so a counter that grows by N between two
// steps is a rate of N per second in the golden file.
var fixtureEpoch = time.UnixMilli(1_767_225_600_000) // 2026-01-01T00:00:00Z

// TestFixtures runs the real collectors on every host tree under testdata
// and compares what they publish with testdata/<fixture>.golden.json.
//
// A fixture is a directory of steps, step1, step2 (and step3... where a case
// needs more than one interval), each a copy of the same host with its
// counters advanced by one second. A step holds proc/, sys/ and etc/ trees,
// which the collectors read through Options.HostProc, HostSys and HostEtc
// exactly as they read a host's, and statfs.json: the sizes statfs(2) would
// return for each mount point (keyed by the real, unescaped path), the one
// thing a file tree cannot provide. The collectors are built on step1, which
// primes their counters; every later step is one Collect of every topic, and
// the golden file holds those payloads by step and topic.
//
// go test ./metrics -run TestFixtures -update rewrites the golden files;
// read the diff before committing it.
func TestFixtures(t *testing.T) {
	firsts, err := filepath.Glob(filepath.Join("testdata", "*", "step1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(firsts) == 0 {
		t.Fatal("no fixtures under testdata")
	}
	for _, first := range firsts {
		dir := filepath.Dir(first)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			got := runFixture(t, dir)
			checkGolden(t, dir+".golden.json", got)
		})
	}
}

// runFixture collects every step of the fixture in dir after the first and
// returns the payloads as indented JSON: {"step2": {"cpu": {...}, ...}},
// with "implausible_rates": {"cpu": n, ...}, the counts of rates dropped as
// null over all steps.
func runFixture(t *testing.T, dir string) []byte {
	t.Helper()
	steps := fixtureSteps(t, dir)

	// The collectors keep their roots for life, so the roots go through a
	// symlink that is moved from one step to the next.
	root := filepath.Join(t.TempDir(), "host")
	point := func(step string) {
		t.Helper()
		if err := os.Remove(root); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if err := os.Symlink(step, root); err != nil {
			t.Fatal(err)
		}
	}
	point(steps[0])

	clock := fixtureEpoch
	cs, err := NewCollectors(Options{
		HostProc: filepath.Join(root, "proc"),
		HostSys:  filepath.Join(root, "sys"),
		HostEtc:  filepath.Join(root, "etc"),
		now:      func() time.Time { return clock },
		statfs:   fixtureStatfs(filepath.Join(root, "statfs.json")),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { CloseCollectors(cs) })
	for _, c := range cs {
		if d, ok := c.(*diskCollector); ok {
			// A fixture's statfs answers from a file and never hangs;
			// waiting for it keeps each step's sizes in its own step on a
			// machine too busy to answer within statfsWait.
			d.sizes.wait = time.Minute
		}
	}

	out := make(map[string]any)
	for _, step := range steps[1:] {
		point(step)
		clock = clock.Add(time.Second)
		payloads := make(map[string]json.RawMessage)
		for _, c := range cs {
			data, err := c.Collect(clock)
			if err != nil {
				t.Fatalf("%s: %s: %v", filepath.Base(step), c.Topic(), err)
			}
			var p map[string]any
			if err := json.Unmarshal(data, &p); err != nil {
				t.Fatalf("%s: %s: %v", filepath.Base(step), c.Topic(), err)
			}
			checkPlausible(t, c.Topic(), p)
			payloads[c.Topic()] = data
		}
		out[filepath.Base(step)] = payloads
	}
	// What the collectors counted as implausible over all steps, as a
	// metrics endpoint would export it.
	implausible := make(map[string]uint64)
	for _, c := range cs {
		if r, ok := c.(ImplausibleRates); ok {
			implausible[c.Topic()] = r.ImplausibleRates()
		}
	}
	out["implausible_rates"] = implausible
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// fixtureSteps lists the absolute paths of dir's step directories in order.
func fixtureSteps(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		n    int
		path string
	}
	var steps []step
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "step"))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "step") || err != nil {
			t.Fatalf("%s: unexpected entry %s: a fixture holds step1, step2, ...", dir, e.Name())
		}
		abs, err := filepath.Abs(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, step{n, abs})
	}
	slices.SortFunc(steps, func(a, b step) int { return a.n - b.n })
	if len(steps) < 2 {
		t.Fatalf("%s: a fixture needs at least step1 and step2", dir)
	}
	paths := make([]string, len(steps))
	for i, s := range steps {
		if s.n != i+1 {
			t.Fatalf("%s: steps must be step1..stepN without gaps", dir)
		}
		paths[i] = s.path
	}
	return paths
}

// fixtureStatfs answers statfs from the step's statfs.json, read on every
// call so that each step has its own sizes. It fills the fields the way
// gopsutil's Usage does from a statfs result: used is blocks minus free
// blocks, free is what an unprivileged user may still use, and the percent
// is used / (used + free).
func fixtureStatfs(path string) func(context.Context, string) (*disk.UsageStat, error) {
	return func(_ context.Context, mount string) (*disk.UsageStat, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var sizes map[string]struct{ Total, Used, Free uint64 }
		if err := json.Unmarshal(b, &sizes); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s, ok := sizes[mount]
		if !ok {
			return nil, fmt.Errorf("statfs %q: %w", mount, fs.ErrNotExist)
		}
		u := &disk.UsageStat{Path: mount, Total: s.Total, Used: s.Used, Free: s.Free}
		if s.Used+s.Free > 0 {
			u.UsedPercent = float64(s.Used) / float64(s.Used+s.Free) * 100
		}
		return u, nil
	}
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./metrics -run TestFixtures -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update and read the diff):\n%s", golden, lineDiff(want, got))
	}
}

// lineDiff lists the lines that differ between want and got, position by
// position: enough to see which value moved in an indented JSON file.
func lineDiff(want, got []byte) string {
	w := strings.Split(string(want), "\n")
	g := strings.Split(string(got), "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
