package containers

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"vitals/metrics/internal/fixture"
)

// holdEnv makes the test binary a memory holder: it joins the cgroups
// whose cgroup.procs files the variable lists (':'-separated), touches
// holdBytes, says "ready" and waits for its stdin to close. It joins before
// allocating because memory is charged to the cgroup that faults it in.
const holdEnv = "VITALS_TEST_HOLD_IN"

const holdBytes = 64 << 20

func TestMain(m *testing.M) {
	if files := os.Getenv(holdEnv); files != "" {
		for _, f := range strings.Split(files, ":") {
			if err := os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		b := make([]byte, holdBytes)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		fmt.Println("ready")
		bufio.NewReader(os.Stdin).ReadString('\n')
		runtime.KeepAlive(b)
		return
	}
	os.Exit(m.Run())
}

// testCgroups creates real cgroups for one test in every hierarchy the
// collector reads, under one parent named after this process, and removes
// them (after their processes, which the test must have ended by then) in
// cleanup. It skips, or fails under CI=true, when they can't be created.
type testCgroups struct {
	t      testing.TB
	lay    layout
	parent string // "/vitals-test-<pid>"
}

func newTestCgroups(t testing.TB) *testCgroups {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if os.Geteuid() != 0 {
		skip("creating cgroups needs root")
	}
	lay, err := detect("/sys/fs/cgroup")
	if err != nil {
		skip("no usable cgroup hierarchy: %v", err)
	}
	if lay.v2 {
		// Controllers must be enabled in every ancestor for a child to
		// get their files. The root allows it even with processes in it.
		os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+cpu +memory +io"), 0)
	}
	tc := &testCgroups{t: t, lay: lay, parent: "/vitals-test-" + strconv.Itoa(os.Getpid())}
	if err := tc.mkdir(tc.parent); err != nil {
		skip("cannot create cgroups here: %v", err)
	}
	if lay.v2 {
		os.WriteFile(filepath.Join(lay.walk, tc.parent, "cgroup.subtree_control"), []byte("+cpu +memory +io"), 0)
	}
	return tc
}

// hierarchies are the distinct hierarchy roots in use.
func (tc *testCgroups) hierarchies() []string {
	var out []string
	for _, h := range []string{tc.lay.cpu, tc.lay.mem, tc.lay.blk} {
		if h != "" && !contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// mkdir creates rel in every hierarchy and removes it in cleanup.
func (tc *testCgroups) mkdir(rel string) error {
	for _, h := range tc.hierarchies() {
		dir := filepath.Join(h, rel)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		tc.t.Cleanup(func() {
			// A cgroup can be removed only once its last process has
			// been reaped, which can trail the Wait by a moment.
			for i := 0; ; i++ {
				err := os.Remove(dir)
				if err == nil || os.IsNotExist(err) || i == 50 {
					if err != nil && !os.IsNotExist(err) {
						tc.t.Errorf("remove cgroup %s: %v", dir, err)
					}
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	return nil
}

// container creates a docker-like scope under the parent and returns its
// id and the cgroup.procs files a process writes itself into.
func (tc *testCgroups) container() (id string, procs []string) {
	tc.t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	id = hex.EncodeToString(b)
	rel := tc.parent + "/docker-" + id + ".scope"
	if err := tc.mkdir(rel); err != nil {
		tc.t.Fatal(err)
	}
	for _, h := range tc.hierarchies() {
		procs = append(procs, filepath.Join(h, rel, "cgroup.procs"))
	}
	return id, procs
}

// setMemoryLimit limits the container's memory.
func (tc *testCgroups) setMemoryLimit(id string, limit uint64) {
	tc.t.Helper()
	file := "memory.limit_in_bytes"
	if tc.lay.v2 {
		file = "memory.max"
	}
	path := filepath.Join(tc.lay.mem, tc.parent, "docker-"+id+".scope", file)
	if err := os.WriteFile(path, []byte(strconv.FormatUint(limit, 10)), 0); err != nil {
		tc.t.Fatal(err)
	}
}

// start starts cmd and ends it, by its pid, in cleanup.
func start(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

// inCgroup is a shell command that joins the cgroups of procs, then runs
// body.
func inCgroup(procs []string, body string) *exec.Cmd {
	return exec.Command("sh", append([]string{"-c", `for f; do echo $$ > "$f" || exit 1; done; ` + body, "sh"}, procs...)...)
}

// TestRealCgroups creates two real cgroups, runs a CPU burner in one and a
// 64 MiB memory holder limited to 256 MiB in the other, and checks the
// collector finds both with plausible figures.
func TestRealCgroups(t *testing.T) {
	tc := newTestCgroups(t)
	burnID, burnProcs := tc.container()
	holdID, holdProcs := tc.container()
	const limit = 256 << 20
	tc.setMemoryLimit(holdID, limit)

	start(t, inCgroup(burnProcs, "while :; do :; done"))
	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), holdEnv+"="+strings.Join(holdProcs, ":"))
	stdin, _ := holder.StdinPipe()
	out, _ := holder.StdoutPipe()
	holder.Stderr = os.Stderr
	start(t, holder)
	t.Cleanup(func() { stdin.Close() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("memory holder: %q, %v", line, err)
	}

	c, err := New(Options{RuntimeSockets: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var p Payload
	data := fixture.CollectLive(t, c, time.Second, &p)
	found := map[string]Container{}
	for _, ct := range p.Containers {
		found[ct.ID] = ct
	}
	burn, ok1 := found["docker/"+burnID]
	hold, ok2 := found["docker/"+holdID]
	if !ok1 || !ok2 {
		t.Fatalf("test cgroups not found (layout %+v): %s", tc.lay, data)
	}
	t.Logf("burner: cpu %v %%, mem %v; holder: cpu %v %%, mem %v of %v", deref(burn.CPU), deref(burn.MemUsed), deref(hold.CPU), deref(hold.MemUsed), deref(hold.MemLimit))
	// The burner is one busy shell; four helpers share two cores here, so
	// allow it well under a full core but not nothing.
	if burn.CPU == nil || *burn.CPU < 10 || *burn.CPU > 110 {
		t.Errorf("burner CPU = %v %%, want 10..110", deref(burn.CPU))
	}
	if hold.MemUsed == nil || *hold.MemUsed < holdBytes*9/10 || *hold.MemUsed > limit {
		t.Errorf("holder memory = %v, want about %d", deref(hold.MemUsed), holdBytes)
	}
	if hold.MemLimit == nil || *hold.MemLimit != limit {
		t.Errorf("holder limit = %v, want %d", deref(hold.MemLimit), limit)
	}
	if burn.MemLimit != nil {
		t.Errorf("burner limit = %d, want none", *burn.MemLimit)
	}
	if hold.CPU == nil || *hold.CPU > 20 {
		t.Errorf("idle holder CPU = %v %%", deref(hold.CPU))
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// BenchmarkContainers measures one tick with 50 real cgroups, each holding
// one sleeping process, created by the benchmark (root only).
func BenchmarkContainers(b *testing.B) {
	tc := newTestCgroups(b)
	for range 50 {
		_, procs := tc.container()
		start(b, inCgroup(procs, "exec sleep 600"))
	}
	c, err := New(Options{RuntimeSockets: []string{}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var p Payload
	fixture.Collect(b, c, time.Now(), &p)
	b.Logf("%d containers and services listed", len(p.Containers))
	fixture.CPUPerOp(b, func() {
		if _, err := c.Collect(time.Now()); err != nil {
			b.Fatal(err)
		}
	})
}
