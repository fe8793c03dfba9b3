// Package gpu is the "gpu" topic: per GPU utilisation, memory used and
// total, temperature and power. NVIDIA GPUs are read through NVML, the
// driver's management library, loaded at run time with purego, so the
// program needs no cgo and still starts on a host without the driver;
// AMD GPUs are read from the amdgpu driver's sysfs files.
//
// Loading NVML needs the C dynamic loader: a program that imports this
// package is linked dynamically against libc (purego's cgo-free loader
// still calls dlopen), even with CGO_ENABLED=0. Building with the tag
// nonvml leaves NVML out and keeps the binary fully static; AMD GPUs are
// still read.
//
// # Concurrency
//
// Exactly one goroutine may call Collect at a time, and Close must not run
// concurrently with it. The package starts no goroutines.
package gpu
