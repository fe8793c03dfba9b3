package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	rev := "d0664c3b5c8b624cec8695d2a592f75cb1a5483d"
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want Info
	}{
		{"tagged build", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}}},
			Info{Version: "v1.2.0", Revision: rev, GoVersion: "go1.26.8"}},
		{"pseudo-version", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261130015159-d0664c3b5c8b+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
			Info{Version: "v0.0.0-20261130015159-d0664c3b5c8b+dirty", Revision: rev, GoVersion: "go1.26.8"}},
		{"commit without a module version", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
			Info{Version: "devel-d0664c3b5c8b+dirty", Revision: rev, GoVersion: "go1.26.8"}},
		{"no vcs stamp", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			Info{Version: "devel", GoVersion: "go1.26.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromBuildInfo(&tt.bi); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
