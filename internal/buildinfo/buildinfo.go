package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info describes the running binary.
type Info struct {
	// Version is the module version the toolchain derived from git: a tag
	// such as v1.2.0, or a pseudo-version v0.0.0-<UTC time>-<commit>, with
	// "+dirty" when the tree had uncommitted changes. "devel" when the
	// binary was built outside a git checkout (or with -buildvcs=false).
	Version string
	// Revision is the full commit hash, "" when unknown.
	Revision string
	// GoVersion is the toolchain that built the binary, e.g. go1.26.8.
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	info := Info{Version: "devel", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: "devel", GoVersion: bi.GoVersion}
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	switch {
	case bi.Main.Version != "" && bi.Main.Version != "(devel)":
		info.Version = bi.Main.Version
	case info.Revision != "":
		// A toolchain that stamps the commit but not a module version.
		info.Version = "devel-" + info.Revision[:min(12, len(info.Revision))]
		if dirty {
			info.Version += "+dirty"
		}
	}
	return info
}
