package metrics

import (
	"testing"
	"time"
)

// The budget is one full sample of all five collectors well under 2 ms.
// It is checked here, by benchmark, rather than by a timed assertion in a
// test, which would flake on a loaded CI machine.

func newBenchCollectors(b *testing.B) []Collector {
	b.Helper()
	cs, err := NewCollectors(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { CloseCollectors(cs) })
	return cs
}

func BenchmarkCollectAll(b *testing.B) {
	cs := newBenchCollectors(b)
	t := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cs {
			if _, err := c.Collect(t); err != nil {
				b.Fatalf("%s: %v", c.Topic(), err)
			}
		}
	}
}

func benchmarkTopic(b *testing.B, topic string) {
	for _, c := range newBenchCollectors(b) {
		if c.Topic() != topic {
			continue
		}
		t := time.Now()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Collect(t); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.Fatalf("no %s collector", topic)
}

func BenchmarkCollectCPU(b *testing.B)     { benchmarkTopic(b, topicCPU) }
func BenchmarkCollectMemory(b *testing.B)  { benchmarkTopic(b, topicMemory) }
func BenchmarkCollectLoad(b *testing.B)    { benchmarkTopic(b, topicLoad) }
func BenchmarkCollectDisk(b *testing.B)    { benchmarkTopic(b, topicDisk) }
func BenchmarkCollectNetwork(b *testing.B) { benchmarkTopic(b, topicNetwork) }
