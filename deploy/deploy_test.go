package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeInstallVerifies runs the real `make install` into a temporary
// prefix and has systemd check the unit it installed, ExecStart included
// (verify fails when the binary it names isn't there).
func TestMakeInstallVerifies(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is missing: CI must install Debian's systemd package")
		}
		t.Skip("systemd-analyze not installed (Debian: apt-get install systemd); skipping the unit check")
	}
	tmp := t.TempDir()
	prefix, units := filepath.Join(tmp, "prefix"), filepath.Join(tmp, "units")
	cmd := exec.Command("make", "-C", "..", "install",
		"BIN="+filepath.Join(tmp, "vitals"), "PREFIX="+prefix, "UNITDIR="+units)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(prefix, "bin", "vitals")); err != nil {
		t.Fatalf("binary not installed: %v", err)
	}
	unit := filepath.Join(units, "vitals.service")
	text, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(text, []byte("ExecStart="+filepath.Join(prefix, "bin", "vitals")+"\n")) {
		t.Fatalf("ExecStart does not name the installed binary:\n%s", text)
	}
	// verify exits 0 on unknown keys and bad values, with a warning: any
	// output at all is a finding.
	out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestHardening pins what the unit promises in docs/operations.md: its own
// user, a read-only system and a private state directory.
func TestHardening(t *testing.T) {
	text, err := os.ReadFile("vitals.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=vitals", "ProtectSystem=strict",
		"ProtectHome=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n", "ProtectKernelTunables=yes"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("vitals.service lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestOperationsShowsTheUnit keeps docs/operations.md's unit the one that
// make install installs.
func TestOperationsShowsTheUnit(t *testing.T) {
	unit, err := os.ReadFile("vitals.service")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, append(append([]byte("```ini\n"), unit...), "```\n"...)) {
		t.Fatal("docs/operations.md must show deploy/vitals.service verbatim in an ```ini block")
	}
}
