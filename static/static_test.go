package static

import (
	"io/fs"
	"testing"
	"testing/fstest"
)

func TestFSServesPageFilesOnly(t *testing.T) {
	fsys := FS()
	for _, name := range []string{"app.js", "charts.js", "embed.js", "format.js", "hub.js", "log.js", "palette.js", "pause.js", "units.js", "series.js", "stream.js", "share.js", "sharedsource.js", "sharehub.js", "shareworker.js", "theme.js", "view.js", "palette.css", "style.css", "favicon.svg", "labels.js", "columns.js", "keyboard.js", "breakdown.js", "breakdowncard.js", "dom.js"} {
		if _, err := fs.Stat(fsys, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"static.go", "doc.go", "static_test.go", "series_test.js", "format_test.js", "hub_test.js", "palette_test.js", "pause_test.js", "units_test.js", "view_test.js", "share_test.js", "labels_test.js", "columns_test.js", "keyboard_test.js", "breakdown_test.js"} {
		if _, err := fsys.Open(name); err == nil {
			t.Errorf("%s is served; it is not part of the page", name)
		}
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if hidden(e.Name()) {
			t.Errorf("ReadDir lists %s", e.Name())
		}
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		name string
		fsys fs.FS
		want int
	}{
		{"empty", fstest.MapFS{}, 2},
		{"complete", fstest.MapFS{"vendor/uPlot.esm.js": {}, "vendor/uPlot.min.css": {}}, 0},
		{"css only", fstest.MapFS{"vendor/uPlot.min.css": {}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Missing(tt.fsys); len(got) != tt.want {
				t.Errorf("Missing = %v, want %d files", got, tt.want)
			}
		})
	}
}
