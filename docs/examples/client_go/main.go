package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "vitals server")
	topics := flag.String("topics", "", "comma list of topics (default: all)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	lastID := ""
	retry := 2 * time.Second // until the server says otherwise
	for ctx.Err() == nil {
		err := stream(ctx, *base, *topics, &lastID, &retry)
		var fatal fatalError
		if errors.As(err, &fatal) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "# %v; reconnecting in %v after %q\n", err, retry, lastID)
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// fatalError is an answer that retrying won't change (bad topic, token).
type fatalError struct{ msg string }

func (e fatalError) Error() string { return e.msg }

// stream reads one connection until it ends, updating lastID after every
// event with an id and retry when the server sends one.
func stream(ctx context.Context, base, topics string, lastID *string, retry *time.Duration) error {
	u := strings.TrimSuffix(base, "/") + "/events"
	if topics != "" {
		u += "?topics=" + url.QueryEscape(topics)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fatalError{err.Error()}
	}
	req.Header.Set("Accept", "text/event-stream")
	if *lastID != "" {
		req.Header.Set("Last-Event-ID", *lastID)
	}
	if tok := os.Getenv("VITALS_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	// No client timeout: the stream has no end. A dead peer shows up as a
	// read error once TCP notices; the server pings every 15 s.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("vitals answered %s", resp.Status)
		if resp.StatusCode == 400 || resp.StatusCode == 401 || resp.StatusCode == 403 {
			return fatalError{msg}
		}
		return errors.New(msg)
	}

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20) // a disk event with many devices is long
	event, id, hasID := "message", "", false
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" { // a blank line dispatches the event
			if hasID {
				*lastID = id
			}
			if len(data) > 0 {
				show(event, id, strings.Join(data, "\n"))
			}
			event, id, hasID, data = "message", "", false, nil
			continue
		}
		if strings.HasPrefix(line, ":") { // a comment (": ping")
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			event = value
		case "data":
			data = append(data, value)
		case "id":
			id, hasID = value, true
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil {
				*retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("stream ended")
}

func show(event, id, data string) {
	switch {
	case event == "catchup-start" || event == "catchup-end":
		fmt.Fprintf(os.Stderr, "# %s %s\n", event, data)
	case id != "" && event == "cpu":
		fmt.Println(id, event, busiestCore(data), data)
	case id != "": // metric events carry ids; hello and the brackets don't
		fmt.Println(id, event, data)
	}
}

// busiestCore names the busiest CPU of a cpu event by the kernel's number:
// cores[i] belongs to cpu core_ids[i] (an offline CPU is left out of both).
func busiestCore(data string) string {
	var p struct {
		Cores   []*float64 `json:"cores"`
		CoreIDs []int      `json:"core_ids"`
	}
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return "busiest=?"
	}
	best, bestID := -1.0, -1
	for i, v := range p.Cores {
		id := i // an older server sends no core_ids: every CPU is online
		if len(p.CoreIDs) == len(p.Cores) {
			id = p.CoreIDs[i]
		}
		if v != nil && *v > best {
			best, bestID = *v, id
		}
	}
	if bestID < 0 {
		return "busiest=none"
	}
	return fmt.Sprintf("busiest=cpu%d:%g%%", bestID, best)
}
