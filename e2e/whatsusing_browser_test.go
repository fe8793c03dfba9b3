package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// checkWhatsUsing checks the process and container tables of a live page
// on this machine: both shown (it has /proc and cgroups), process rows
// with sparklines, kept across ticks (keyed, so no flicker), a click that
// filters to one process's history, and the sections of topics the host
// lacks hidden.
func checkWhatsUsing(t *testing.T, p *page) {
	t.Helper()
	p.waitFor("process rows", `s.processes.rows > 0 && s.live >= 3`, 10*time.Second)
	type state struct {
		ProcHidden, CtrHidden bool
		CtrTableShown         bool
		Rows, Sparks, CtrRows int
		CtrText               string
		Hidden                []string
	}
	read := func() state {
		st, err := chromedp.Run(p.ctx, chromedp.Evaluate[state](`({
			ProcHidden: document.querySelector("#processes").hidden,
			CtrHidden: document.querySelector("#containers").hidden,
			Rows: document.querySelectorAll("#proc-rows tr[data-key]").length,
			Sparks: [...document.querySelectorAll("#proc-rows path")].filter((e) => (e.getAttribute("d") || "").startsWith("M")).length,
			CtrText: document.querySelector("[data-ctr-totals]").textContent,
			CtrRows: document.querySelectorAll("#ctr-rows tr").length,
			CtrTableShown: document.querySelector("#containers .table-scroll").getClientRects().length > 0,
			Hidden: [...document.querySelectorAll("[data-topic]")].filter((e) => e.hidden).map((e) => e.dataset.topic),
		})`))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := read()
	if st.ProcHidden || st.CtrHidden || st.Rows == 0 || st.Sparks == 0 || st.CtrText == "" {
		t.Fatalf("tables not live: %+v", st)
	}
	// No containers: the line says so, and no column headings stand over
	// an empty table.
	if st.CtrTableShown != (st.CtrRows > 0) {
		t.Errorf("container table shown=%v with %d rows (%q)", st.CtrTableShown, st.CtrRows, st.CtrText)
	}
	for _, topic := range st.Hidden {
		if topic == "processes" || topic == "containers" {
			t.Fatalf("%s hidden on a host that has it: %+v", topic, st)
		}
	}
	t.Logf("process table: %d rows, %d sparklines; containers: %q; hidden sections: %v", st.Rows, st.Sparks, st.CtrText, st.Hidden)

	// The same process keeps its row element from tick to tick.
	p.do(chromedp.Evaluate[chromedp.Void](`window.__row = document.querySelector("#proc-rows tr[data-key]"); window.__live = window.vitals.snapshot().live`))
	p.waitFor("three more ticks", `s.live >= window.__live + 3`, 10*time.Second)
	kept, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`(() => {
		const key = window.__row.dataset.key;
		const now = document.querySelector('#proc-rows tr[data-key="' + key + '"]');
		return now === null || now === window.__row;
	})()`))
	if err != nil || !kept {
		t.Fatalf("a listed process's row was replaced between ticks (%v)", err)
	}

	// A click shows that process's history; "Show all" goes back.
	p.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#proc-rows tr[data-key]").click()`))
	p.waitFor("the filtered history", `s.processes.filtered && s.processes.rows > 0`, 5*time.Second)
	p.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-proc-clear]").click()`))
	p.waitFor("the top list again", `!s.processes.filtered && s.processes.rows > 0`, 5*time.Second)
}
