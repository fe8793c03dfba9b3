package metrics

import (
	"slices"
	"testing"
	"time"
)

type topicOnly string

func (t topicOnly) Topic() string                   { return string(t) }
func (topicOnly) Collect(time.Time) ([]byte, error) { return nil, nil }

func TestTopicsOf(t *testing.T) {
	cs := []Collector{topicOnly("gpu"), topicOnly("cpu"), topicOnly("extra"), topicOnly("processes"), topicOnly("network")}
	got := TopicsOf(cs)
	want := []string{"cpu", "network", "processes", "gpu", "extra"}
	if !slices.Equal(got, want) {
		t.Fatalf("TopicsOf = %v, want %v", got, want)
	}
	if all := AllTopics(); len(all) != 9 || !slices.Equal(all[:5], Topics()) {
		t.Fatalf("AllTopics = %v", all)
	}
}

// A host root without the files a topic needs leaves that topic out
// instead of failing the start.
func TestNewWhatsUsingLeavesOutWhatTheHostLacks(t *testing.T) {
	empty := t.TempDir()
	cs, err := NewWhatsUsing(Options{HostProc: empty, HostSys: empty, HostEtc: empty}, WhatsUsingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer CloseCollectors(cs)
	if got := TopicsOf(cs); len(got) != 0 {
		t.Fatalf("topics on an empty host = %v, want none", got)
	}
}

// On this machine (it has a procfs) processes is there, and every built
// collector samples and closes.
func TestNewWhatsUsingOnThisHost(t *testing.T) {
	cs, err := NewWhatsUsing(Options{}, WhatsUsingOptions{TopProcesses: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(TopicsOf(cs), "processes") {
		t.Fatalf("topics = %v, want processes among them", TopicsOf(cs))
	}
	for _, c := range cs {
		if _, err := c.Collect(time.Now()); err != nil {
			t.Errorf("%s: %v", c.Topic(), err)
		}
	}
	if err := CloseCollectors(cs); err != nil {
		t.Fatal(err)
	}
}
