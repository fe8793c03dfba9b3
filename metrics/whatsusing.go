package metrics

import (
	"log/slog"
	"path/filepath"
	"slices"

	"vitals/metrics/containers"
	"vitals/metrics/gpu"
	"vitals/metrics/procs"
	"vitals/metrics/sensors"
)

// The "what is using it" topics: each has its own package (procs,
// containers, sensors, gpu) whose constructor fails where this host can't
// provide it, and such a topic is then absent, not a stream of nulls.

// AllTopics is every metrics topic a vitals may publish, in display
// order: the five of [Topics], then processes, containers, sensors and gpu
// (the program adds its own "alerts" topic to the log). A backend
// serving many hosts (Redis) uses it, since each host publishes what it
// can; one host's own list is [TopicsOf] its collectors.
func AllTopics() []string {
	return append(Topics(), procs.Topic, containers.Topic, sensors.Topic, gpu.Topic)
}

// TopicsOf lists the topics of cs in display order ([AllTopics] order;
// a topic outside it goes last).
func TopicsOf(cs []Collector) []string {
	order := AllTopics()
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Topic())
	}
	rank := func(t string) int {
		if i := slices.Index(order, t); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// WhatsUsingOptions configures [NewWhatsUsing].
type WhatsUsingOptions struct {
	// TopProcesses is how many processes each of the processes topic's
	// lists holds (0: the package's default, 10).
	TopProcesses int
	// ProcessCmdline sends full command lines; off, only names.
	ProcessCmdline bool
}

// NewWhatsUsing builds the collectors of the processes, containers,
// sensors and gpu topics that this host can provide, with the same host
// roots as [NewCollectors] (the cgroup root is HostSys/fs/cgroup). A
// topic whose constructor fails is left out and logged once: at info for
// processes and containers (a container without the host's /proc or
// cgroups mounted), at debug for sensors and GPUs, which most virtual
// machines lack. The owner closes them with [CloseCollectors].
func NewWhatsUsing(opts Options, w WhatsUsingOptions) ([]Collector, error) {
	env, err := newHostEnv(opts)
	if err != nil {
		return nil, err
	}
	log := opts.logger()
	etc := hostRoot(opts.HostEtc, "HOST_ETC", "/etc")
	var out []Collector
	add := func(topic string, level slog.Level, c Collector, err error) {
		if err != nil {
			log.Log(env.ctx, level, "topic left out: this host can't provide it", "topic", topic, "err", err)
			return
		}
		out = append(out, c)
	}
	p, err := procs.New(procs.Options{Proc: env.proc, Etc: etc, TopN: w.TopProcesses, Cmdline: w.ProcessCmdline, Logger: log})
	add(procs.Topic, slog.LevelInfo, p, err)
	ct, err := containers.New(containers.Options{CgroupRoot: filepath.Join(env.sys, "fs", "cgroup"), Proc: env.proc, Logger: log})
	add(containers.Topic, slog.LevelInfo, ct, err)
	s, err := sensors.New(sensors.Options{Sys: env.sys, Logger: log})
	add(sensors.Topic, slog.LevelDebug, s, err)
	g, err := gpu.New(gpu.Options{Sys: env.sys, Logger: log})
	add(gpu.Topic, slog.LevelDebug, g, err)
	return out, nil
}
