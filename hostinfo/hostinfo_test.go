package hostinfo

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDescRoundTrip(t *testing.T) {
	in := Info{Hostname: "web-1", OS: "linux", Platform: "debian", PlatformVersion: "12.5", Kernel: "6.1.0",
		Arch: "x86_64", CPUs: 8, BootTime: time.Unix(1_700_000_000, 0), Interval: time.Second, Retention: time.Hour}
	b, err := json.Marshal(in.Desc())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"os":"linux","platform":"debian","platform_version":"12.5","kernel":"6.1.0","arch":"x86_64","cpus":8,"boot_time":1700000000,"interval_ms":1000,"retention_ms":3600000}`
	if string(b) != want {
		t.Errorf("Desc JSON = %s\nwant %s", b, want)
	}
	var d Desc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if got := d.Info("web-1"); got != in {
		t.Errorf("round trip = %+v, want %+v", got, in)
	}
}

func TestDescUnknownBootTime(t *testing.T) {
	b, err := json.Marshal(Info{OS: "linux"}.Desc())
	if err != nil {
		t.Fatal(err)
	}
	// Zero interval and retention are left out: a Redis record keeps them
	// beside the description, so its bytes stay as they were.
	const want = `{"os":"linux","platform":"","platform_version":"","kernel":"","arch":"","cpus":0,"boot_time":0}`
	if string(b) != want {
		t.Errorf("Desc JSON = %s\nwant %s", b, want)
	}
}

// TestDescReadsOldRecords decodes host descriptions as earlier versions
// wrote them into Redis: no interval or retention, and an unknown boot time
// as the unix seconds of the zero time.Time.
func TestDescReadsOldRecords(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       Info
	}{
		{
			name: "known boot time",
			json: `{"os":"linux","platform":"debian","platform_version":"12.11","kernel":"6.18.44","arch":"x86_64","cpus":2,"boot_time":1795598312}`,
			want: Info{Hostname: "vm", OS: "linux", Platform: "debian", PlatformVersion: "12.11", Kernel: "6.18.44",
				Arch: "x86_64", CPUs: 2, BootTime: time.Unix(1795598312, 0)},
		},
		{
			name: "unknown boot time",
			json: `{"os":"linux","platform":"","platform_version":"","kernel":"","arch":"","cpus":1,"boot_time":-62135596800}`,
			want: Info{Hostname: "vm", OS: "linux", CPUs: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d Desc
			if err := json.Unmarshal([]byte(tc.json), &d); err != nil {
				t.Fatal(err)
			}
			if got := d.Info("vm"); got != tc.want {
				t.Errorf("Info = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDescContainer(t *testing.T) {
	in := Info{Hostname: "c1", OS: "linux", Container: "docker", CPULimit: 1.5, MemoryLimit: 512 << 20}
	b, err := json.Marshal(in.Desc())
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"os":"linux","platform":"","platform_version":"","kernel":"","arch":"","cpus":0,"boot_time":0,"container":"docker","cpu_limit":1.5,"memory_limit":536870912}`
	if string(b) != want {
		t.Errorf("Desc JSON = %s\nwant %s", b, want)
	}
	var d Desc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if got := d.Info("c1"); got != in {
		t.Errorf("round trip = %+v, want %+v", got, in)
	}
}
