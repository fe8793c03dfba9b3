package app

import (
	"io"
	"strings"
	"testing"
)

func TestProcessesFlags(t *testing.T) {
	c, err := parseConfig(nil, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Processes.Cmdline || c.Processes.TopN != 10 {
		t.Fatalf("defaults = %+v, want names only and 10 rows", c.Processes)
	}
	c, err = parseConfig([]string{"--top-processes", "25"}, env("VITALS_PROCESS_CMDLINE", "true", "VITALS_TOP_PROCESSES", "5"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Processes.Cmdline || c.Processes.TopN != 25 {
		t.Fatalf("config = %+v, want command lines and 25 rows", c.Processes)
	}
	for _, bad := range []string{"0", "101", "many"} {
		_, err := parseConfig([]string{"--top-processes", bad}, env(), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--top-processes") {
			t.Errorf("--top-processes %s: err = %v, want one naming the flag", bad, err)
		}
	}
}
