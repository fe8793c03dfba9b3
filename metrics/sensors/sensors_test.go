package sensors

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vitals/metrics/internal/fixture"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestFixtures(t *testing.T) {
	for _, host := range []string{"laptop", "server"} {
		t.Run(host, func(t *testing.T) {
			c, err := New(Options{Sys: "testdata/" + host})
			if err != nil {
				t.Fatal(err)
			}
			got := fixture.Collect(t, c, time.UnixMilli(1700000000000), nil)
			fixture.Golden(t, "testdata/"+host+".golden.json", got, *update)
		})
	}
}

// TestBrokenSensors checks that a sensor answering ENODATA, one with an
// unreadable value and a device that vanishes between ticks each drop only
// themselves.
func TestBrokenSensors(t *testing.T) {
	sys := fixture.CopyTree(t, "testdata/broken")
	c, err := New(Options{Sys: sys})
	if err != nil {
		t.Fatal(err)
	}
	c.read = func(path string) ([]byte, error) {
		if strings.HasSuffix(path, "hwmon0/temp2_input") {
			return nil, &os.PathError{Op: "read", Path: path, Err: unix.ENODATA}
		}
		return os.ReadFile(path)
	}
	ids := func() []string {
		t.Helper()
		var p Payload
		fixture.Collect(t, c, time.Now(), &p)
		var out []string
		for _, s := range p.Sensors {
			out = append(out, s.ID)
		}
		return out
	}
	want := "coretemp/temp1 coretemp/temp3 drivetemp/temp1 old_driver/temp1"
	if got := strings.Join(ids(), " "); got != want {
		t.Fatalf("sensors = %q, want %q", got, want)
	}
	if err := os.RemoveAll(filepath.Join(sys, "class/hwmon/hwmon1")); err != nil {
		t.Fatal(err)
	}
	want = "coretemp/temp1 coretemp/temp3 old_driver/temp1"
	for range 2 { // the tick that notices, and the one after the re-listing
		if got := strings.Join(ids(), " "); got != want {
			t.Fatalf("after a device vanished: sensors = %q, want %q", got, want)
		}
	}
}

func TestNoSensors(t *testing.T) {
	if _, err := New(Options{Sys: t.TempDir()}); !errors.Is(err, ErrNone) {
		t.Fatalf("New = %v, want ErrNone", err)
	}
}

func TestCelsius(t *testing.T) {
	for _, tc := range []struct {
		milli int64
		want  float64
	}{{45000, 45}, {38850, 38.9}, {-5000, -5}, {0, 0}, {52125, 52.1}} {
		if got := celsius(tc.milli); got != tc.want {
			t.Errorf("celsius(%d) = %v, want %v", tc.milli, got, tc.want)
		}
	}
}

func TestNaturalCompare(t *testing.T) {
	if naturalCompare("/a/hwmon9", "/a/hwmon10") >= 0 || naturalCompare("/a/temp10_input", "/a/temp2_input") <= 0 {
		t.Fatal("natural order broken")
	}
}
