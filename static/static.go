package static

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed *
var files embed.FS

// vendorFiles lists the library files the page imports from vendor/.
func vendorFiles() []string {
	return []string{"vendor/uPlot.esm.js", "vendor/uPlot.min.css"}
}

// FS returns the files served under /static/: everything in this directory
// except Go sources and *_test.js.
func FS() fs.FS { return servedFS{files} }

// Missing returns the vendor files the page needs that fsys lacks.
func Missing(fsys fs.FS) []string {
	var missing []string
	for _, name := range vendorFiles() {
		if _, err := fs.Stat(fsys, name); err != nil {
			missing = append(missing, name)
		}
	}
	return missing
}

// servedFS hides the files that are part of the package but not of the page.
type servedFS struct{ fsys embed.FS }

func hidden(name string) bool {
	base := path.Base(name)
	return strings.HasSuffix(base, ".go") || strings.HasSuffix(base, "_test.js")
}

func (s servedFS) Open(name string) (fs.File, error) {
	if hidden(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return s.fsys.Open(name)
}

func (s servedFS) ReadFile(name string) ([]byte, error) {
	if hidden(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return s.fsys.ReadFile(name)
}

func (s servedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := s.fsys.ReadDir(name)
	if err != nil {
		return nil, err
	}
	kept := entries[:0:0]
	for _, e := range entries {
		if !hidden(path.Join(name, e.Name())) {
			kept = append(kept, e)
		}
	}
	return kept, nil
}
