// Package sensors is the "sensors" topic: temperatures from the kernel's
// hwmon devices (/sys/class/hwmon) and thermal zones (/sys/class/thermal),
// each with its label and, where the driver gives them, its critical and
// max thresholds.
//
// Sensors are listed at start and again every few ticks (and at once after
// one vanished); a tick reads only the temperature files. One sensor that
// fails to read (ENODATA from a sleeping device, a device unplugged under
// us) is left out of that tick and logged once at debug; it never hides
// the others.
//
// # Concurrency
//
// Exactly one goroutine may call Collect at a time. The package starts no
// goroutines.
package sensors
