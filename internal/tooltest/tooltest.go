package tooltest

import (
	"os"
	"os/exec"
	"testing"
)

// Path returns the path of the program name, or skips the test (fails it
// when CI=true) when it is not on PATH. pkg is the Debian package that
// ships it.
func Path(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; CI must run this test (.ci/run installs Debian's %s package)", name, pkg)
	}
	t.Skipf("%s not found on PATH: install Debian's %s package to run this test", name, pkg)
	return ""
}
