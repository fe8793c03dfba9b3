package gpu

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vitals/metrics/internal/fixture"
)

var update = flag.Bool("update", false, "rewrite golden files")

const missingNVML = "/nonexistent/libnvidia-ml.so.1"

func TestAMDFixture(t *testing.T) {
	c, err := New(Options{Sys: "testdata/amd", NoNVML: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := fixture.Collect(t, c, time.UnixMilli(1700000000000), nil)
	fixture.Golden(t, "testdata/amd.golden.json", got, *update)
}

// TestNVMLMissing is the path of every host without the NVIDIA driver:
// the load fails, that is logged once at debug, and the topic is absent
// unless another GPU is there.
func TestNVMLMissing(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := New(Options{Sys: t.TempDir(), NVMLLibrary: missingNVML, Logger: log}); !errors.Is(err, ErrNone) {
		t.Fatalf("New without any GPU = %v, want ErrNone", err)
	}
	if n := strings.Count(logs.String(), "NVML unavailable"); n != 1 || !strings.Contains(logs.String(), "level=DEBUG") {
		t.Fatalf("want one debug line about NVML, got:\n%s", logs.String())
	}
	c, err := New(Options{Sys: "testdata/amd", NVMLLibrary: missingNVML})
	if err != nil {
		t.Fatalf("AMD GPUs without NVML: %v", err)
	}
	defer c.Close()
	if got, _ := c.Collect(time.Now()); !bytes.Contains(got, []byte(`"vendor":"amd"`)) || bytes.Contains(got, []byte("nvidia")) {
		t.Fatalf("Collect = %s", got)
	}
}

// TestNVMLBinding loads a stand-in libnvidia-ml built from
// testdata/fakenvml.c, so the purego calls, struct layouts and error
// handling run here; no GPU or driver is needed. It skips without a C
// compiler or in a nonvml build.
func TestNVMLBinding(t *testing.T) {
	if _, err := openNVML(missingNVML); err != nil && strings.Contains(err.Error(), "nonvml") {
		t.Skip("built without NVML")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler to build the stand-in NVML")
	}
	lib := filepath.Join(t.TempDir(), "libnvidia-ml.so.1")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, "testdata/fakenvml.c").CombinedOutput(); err != nil {
		t.Fatalf("build stand-in NVML: %v\n%s", err, out)
	}
	c, err := New(Options{Sys: t.TempDir(), NVMLLibrary: lib})
	if err != nil {
		t.Fatal(err)
	}
	got := fixture.Collect(t, c, time.UnixMilli(1700000000000), nil)
	c.Close()
	fixture.Golden(t, "testdata/nvml.golden.json", got, *update)
}
