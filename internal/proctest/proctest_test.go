package proctest

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestStopEndsAProcessThatHeedsSIGTERM(t *testing.T) {
	p, err := Start(exec.Command("sleep", "30"))
	if err != nil {
		t.Fatal(err)
	}
	if killed := p.Stop(10 * time.Second); killed {
		t.Fatal("sleep needed SIGKILL")
	}
	if p.Cmd.ProcessState == nil {
		t.Fatal("Stop returned before the process was reaped")
	}
}

func TestStopKillsAProcessThatIgnoresSIGTERM(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", `trap "" TERM; echo ready >&2; while :; do :; done`))
	if err != nil {
		t.Fatal(err)
	}
	started := func() error {
		if !strings.Contains(p.Stderr(), "ready") {
			return errors.New("no trap yet")
		}
		return nil
	}
	if err := p.WaitReady(context.Background(), 10*time.Second, started); err != nil {
		t.Fatal(err)
	}
	if killed := p.Stop(200 * time.Millisecond); !killed {
		t.Fatal("want SIGKILL after the grace period")
	}
}

func TestWaitReadyReportsAnEarlyExit(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", "echo bad flag >&2; exit 2"))
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(context.Background(), 10*time.Second, func() error { return errors.New("never") })
	if err == nil || !strings.Contains(err.Error(), "exited during start") || !strings.Contains(err.Error(), "bad flag") {
		t.Fatalf("err %v", err)
	}
}

func TestListeningOnFreeAddr(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if Listening(addr)() == nil {
		t.Fatalf("something listens on the free address %s", addr)
	}
}
