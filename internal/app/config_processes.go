package app

import (
	"flag"
	"fmt"
)

// Processes are the settings of the processes topic.
type Processes struct {
	// Cmdline sends each listed process's full command line. Off by
	// default: command lines can hold passwords and tokens. The read-only
	// token never sees them either way.
	Cmdline bool
	// TopN is how many processes the by-CPU and by-memory lists hold.
	TopN int
}

// defaultTopProcesses fills a table on one screen. More rows cost little
// to collect (every process is read anyway) but bytes on every event.
const defaultTopProcesses = 10

// maxTopProcesses keeps one processes event, sent every tick to every
// viewer and kept in the history, within a few tens of KiB.
const maxTopProcesses = 100

func (p *Processes) addFlags(fs *flag.FlagSet) {
	p.TopN = defaultTopProcesses
	fs.BoolVar(&p.Cmdline, "process-cmdline", false, "send full process command lines (they can hold secrets; the read token never sees them)")
	fs.IntVar(&p.TopN, "top-processes", p.TopN, "how many processes the by-CPU and by-memory lists hold (1 to 100)")
}

func (p *Processes) finish() error {
	if p.TopN < 1 || p.TopN > maxTopProcesses {
		return fmt.Errorf("--top-processes %d: use 1 to %d", p.TopN, maxTopProcesses)
	}
	return nil
}
