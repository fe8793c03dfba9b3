//go:build nonvml

package gpu

import "errors"

// openNVML always fails in a build without NVML (tag nonvml), which keeps
// the binary free of the dynamic loader.
func openNVML(string) (source, error) {
	return nil, errors.New("built with the nonvml tag")
}
