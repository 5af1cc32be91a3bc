package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
)

// report is the outcome of a run, printed as a table or JSON.
type report struct {
	Label         string  `json:"label"`
	Protocol      string  `json:"protocol"`
	URL           string  `json:"url"`
	Mode          string  `json:"mode"` // "edit" or "idle"
	Docs          int     `json:"docs"`
	ClientsPerDoc int     `json:"clients_per_doc"`
	Connections   int     `json:"connections"`
	RatePerClient float64 `json:"rate_per_client,omitempty"`

	Connect struct {
		OK      int64   `json:"ok"`
		Failed  int64   `json:"failed"`
		Synced  int64   `json:"synced"`
		Seconds float64 `json:"seconds"`
	} `json:"connect"`
	Edits struct {
		Sent        uint64  `json:"sent"`
		WriteErrors uint64  `json:"write_errors"`
		Seconds     float64 `json:"seconds"`
		PerSecond   float64 `json:"per_second"`
	} `json:"edits"`
	DrainSeconds float64 `json:"drain_seconds,omitempty"`
	// DeliveredAtDrainEnd counts deliveries when the drain ended and the
	// final-state check began; later ones arrived during that check.
	DeliveredAtDrainEnd uint64 `json:"delivered_at_drain_end,omitempty"`

	Delivery *deliveryReport `json:"delivery,omitempty"`
	// Latency is edit sent → observed by another editor of the document.
	Latency *latencySummary `json:"latency,omitempty"`
	// EchoLatency is edit sent → the server's echo back to its sender.
	EchoLatency *latencySummary `json:"echo_latency,omitempty"`
	// ScheduleLag is how late the tool sent edits against their Poisson
	// schedule: large values mean the tool itself was short of CPU.
	ScheduleLag *latencySummary `json:"schedule_lag,omitempty"`
	Verify      *verifyResult   `json:"verify,omitempty"`
	// MaxBacklog is the largest kernel receive backlog seen (5 s samples).
	MaxBacklog *socketBacklog `json:"max_backlog,omitempty"`

	Disconnects    int64  `json:"disconnects"`
	ProtocolErrors uint64 `json:"protocol_errors"`

	Server    *procReport `json:"server,omitempty"`
	Tool      *procReport `json:"tool"`
	ToolProcs int         `json:"tool_procs"` // GOMAXPROCS of the tool

	Errors   []string `json:"errors,omitempty"`
	Failures []string `json:"failures,omitempty"`
	OK       bool     `json:"ok"`
}

type deliveryReport struct {
	Delivered uint64  `json:"delivered"`
	Expected  uint64  `json:"expected"` // edits sent × (editors per document − 1)
	Ratio     float64 `json:"ratio"`
	// LiveDelivered and LiveExpected count only editors whose connection
	// held to the end, owed every edit the server took (see liveDeliveries):
	// they are equal when nothing was lost.
	LiveDelivered  uint64 `json:"live_delivered"`
	LiveExpected   uint64 `json:"live_expected"`
	Echoes         uint64 `json:"echoes"`
	EchoesExpected uint64 `json:"echoes_expected"`
	Duplicates     uint64 `json:"duplicates"`
	Gaps           uint64 `json:"gaps"`    // edits skipped in a sender's sequence
	Foreign        uint64 `json:"foreign"` // tokens of another document's editors
	Malformed      uint64 `json:"malformed"`
}

// procReport is one process's resource use. CPU figures cover the measured
// phase: editing and drain, or the idle hold.
type procReport struct {
	PID               int     `json:"pid"`
	CPUSeconds        float64 `json:"cpu_seconds"`
	CPUPercent        float64 `json:"cpu_percent"` // of one core
	ConnectCPUSeconds float64 `json:"connect_cpu_seconds"`
	RSSStartMiB       float64 `json:"rss_start_mib"`
	RSSConnectedMiB   float64 `json:"rss_connected_mib"`
	RSSEndMiB         float64 `json:"rss_end_mib"`
	PeakRSSMiB        float64 `json:"peak_rss_mib"`
	// CPUMicrosPerDelivered is CPU time over delivered updates (edit mode).
	CPUMicrosPerDelivered float64 `json:"cpu_us_per_delivered,omitempty"`
	// RSSPerConnKiB is RSS growth from start to settled over connections
	// (idle mode); RSSPerConnEndKiB uses the end of the hold.
	RSSPerConnKiB    float64 `json:"rss_per_conn_kib,omitempty"`
	RSSPerConnEndKiB float64 `json:"rss_per_conn_end_kib,omitempty"`
	Threads          int     `json:"threads"`
}

// procWatch samples one process at named moments.
type procWatch struct {
	pid     int
	samples map[string]procSample
}

func newProcWatch(pid int) *procWatch { return &procWatch{pid: pid, samples: map[string]procSample{}} }

func (w *procWatch) mark(name string) {
	if w.pid == 0 {
		return
	}
	s, err := sampleProc(w.pid)
	if err != nil {
		slog.Warn("sample process", "pid", w.pid, "at", name, "err", err)
		return
	}
	w.samples[name] = s
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func (w *procWatch) report(phaseFrom string, conns int) *procReport {
	if w.pid == 0 {
		return nil
	}
	start, end := w.samples["start"], w.samples["end"]
	connected, from := w.samples["connected"], w.samples[phaseFrom]
	p := &procReport{
		PID:               w.pid,
		CPUSeconds:        end.cpuSeconds - from.cpuSeconds,
		ConnectCPUSeconds: connected.cpuSeconds - start.cpuSeconds,
		RSSStartMiB:       mib(start.rssBytes),
		RSSConnectedMiB:   mib(connected.rssBytes),
		RSSEndMiB:         mib(end.rssBytes),
		PeakRSSMiB:        mib(end.hwmBytes),
		Threads:           end.threads,
	}
	if secs := end.at.Sub(from.at).Seconds(); secs > 0 {
		p.CPUPercent = 100 * p.CPUSeconds / secs
	}
	if conns > 0 {
		if settled, ok := w.samples["settled"]; ok {
			p.RSSPerConnKiB = (float64(settled.rssBytes) - float64(start.rssBytes)) / 1024 / float64(conns)
			p.RSSPerConnEndKiB = (float64(end.rssBytes) - float64(start.rssBytes)) / 1024 / float64(conns)
		}
	}
	return p
}

func newReport(cfg config) report {
	rep := report{
		Label: cfg.label, Protocol: cfg.protocol, URL: cfg.url, Mode: "edit",
		Docs: cfg.docs, ClientsPerDoc: cfg.clients, Connections: cfg.docs * cfg.clients,
		ToolProcs: cfg.procs,
	}
	if cfg.idle {
		rep.Mode = "idle"
	} else {
		rep.RatePerClient = cfg.rate
	}
	return rep
}

// fill copies the run's counters into the report and decides OK.
func (rep *report) fill(r *runner, srv, self *procWatch) {
	rep.Connect.OK = r.connected.Load()
	rep.Connect.Failed = r.connectFailed.Load()
	rep.Connect.Synced = r.synced.Load()
	rep.Disconnects = r.disconnects.Load()
	rep.ProtocolErrors = r.protocolErrors.Load()
	fail := func(format string, args ...any) { rep.Failures = append(rep.Failures, fmt.Sprintf(format, args...)) }
	if rep.Connect.Failed > 0 {
		fail("%d connections failed", rep.Connect.Failed)
	}
	if rep.Connect.Synced < rep.Connect.OK {
		fail("%d connections never completed their first sync", rep.Connect.OK-rep.Connect.Synced)
	}
	if rep.Disconnects > 0 {
		fail("%d connections were closed by the server or lost", rep.Disconnects)
	}
	if rep.ProtocolErrors > 0 {
		fail("%d unreadable server messages", rep.ProtocolErrors)
	}
	phase := "connected"
	if rep.Mode == "idle" {
		phase = "settled"
	} else {
		rep.Edits.Sent = r.sent.Load()
		rep.Edits.WriteErrors = r.writeErrors.Load()
		if rep.Edits.Seconds > 0 {
			rep.Edits.PerSecond = float64(rep.Edits.Sent) / rep.Edits.Seconds
		}
		d := &deliveryReport{
			Delivered:      r.delivered.Load(),
			Expected:       r.expectedDeliveries(),
			Echoes:         r.echoes.Load(),
			EchoesExpected: rep.Edits.Sent,
			Duplicates:     r.duplicates.Load(),
			Gaps:           r.gaps.Load(),
			Foreign:        r.foreign.Load(),
			Malformed:      r.malformed.Load(),
		}
		if d.Expected > 0 {
			d.Ratio = float64(d.Delivered) / float64(d.Expected)
		}
		d.LiveDelivered, d.LiveExpected, _ = r.liveDeliveries()
		rep.Delivery = d
		lat, echo, lag := r.latency.summary(), r.echoLatency.summary(), r.scheduleLag.summary()
		rep.Latency, rep.EchoLatency, rep.ScheduleLag = &lat, &echo, &lag
		backlog := r.maxBacklog
		rep.MaxBacklog = &backlog
		if rep.Edits.WriteErrors > 0 {
			fail("%d edits failed to send", rep.Edits.WriteErrors)
		}
		if rep.Edits.Sent == 0 {
			fail("no edits were sent")
		}
		if d.LiveDelivered < d.LiveExpected {
			fail("%d of %d deliveries to connections that stayed open missing after a %.1fs drain",
				d.LiveExpected-d.LiveDelivered, d.LiveExpected, rep.DrainSeconds)
		}
		if d.Duplicates+d.Gaps+d.Foreign+d.Malformed > 0 {
			fail("delivery anomalies: %d duplicates, %d gaps, %d foreign, %d malformed", d.Duplicates, d.Gaps, d.Foreign, d.Malformed)
		}
		if rep.Verify != nil && rep.Verify.Diverged > 0 {
			fail("%d of %d documents diverged", rep.Verify.Diverged, rep.Verify.Docs)
		}
		if rep.Verify != nil && rep.Verify.Unverified > 0 {
			fail("the final state of %d of %d documents could not be fetched", rep.Verify.Unverified, rep.Verify.Docs)
		}
	}
	conns := int(rep.Connect.OK)
	rep.Server = srv.report(phase, conns)
	rep.Tool = self.report(phase, conns)
	if rep.Server != nil && rep.Delivery != nil && rep.Delivery.Delivered > 0 {
		rep.Server.CPUMicrosPerDelivered = rep.Server.CPUSeconds * 1e6 / float64(rep.Delivery.Delivered)
	}
	if rep.Tool != nil && rep.Delivery != nil && rep.Delivery.Delivered > 0 {
		rep.Tool.CPUMicrosPerDelivered = rep.Tool.CPUSeconds * 1e6 / float64(rep.Delivery.Delivered)
	}
	rep.Errors = r.errs.lines()
	rep.OK = len(rep.Failures) == 0
}

// writeTable prints the report for people.
func writeTable(w io.Writer, rep report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("server", "%s (%s, %s)", rep.Label, rep.Protocol, rep.URL)
	if rep.Mode == "idle" {
		row("run", "idle: %d docs × %d clients = %d connections", rep.Docs, rep.ClientsPerDoc, rep.Connections)
	} else {
		row("run", "%d docs × %d clients = %d connections, %g edits/s each", rep.Docs, rep.ClientsPerDoc, rep.Connections, rep.RatePerClient)
	}
	row("connect", "%d ok, %d failed, %d synced in %.1fs", rep.Connect.OK, rep.Connect.Failed, rep.Connect.Synced, rep.Connect.Seconds)
	if d := rep.Delivery; d != nil {
		row("edits", "%d sent in %.1fs (%.0f/s), %d send errors; drain %.1fs", rep.Edits.Sent, rep.Edits.Seconds, rep.Edits.PerSecond, rep.Edits.WriteErrors, rep.DrainSeconds)
		row("delivered", "%d / %d expected (%.4f%%); %d when the drain ended", d.Delivered, d.Expected, 100*d.Ratio, rep.DeliveredAtDrainEnd)
		if d.LiveExpected != d.Expected || d.LiveDelivered != d.Delivered {
			row("  to open conns", "%d / %d (editors whose connection held, owed every edit the server took)", d.LiveDelivered, d.LiveExpected)
		}
		row("echoes", "%d / %d", d.Echoes, d.EchoesExpected)
		row("anomalies", "%d duplicates, %d gaps, %d foreign, %d malformed", d.Duplicates, d.Gaps, d.Foreign, d.Malformed)
		lat := func(name string, l *latencySummary) {
			row(name, "p50 %.2f  p95 %.2f  p99 %.2f  max %.2f ms  (n=%d)", l.P50Ms, l.P95Ms, l.P99Ms, l.MaxMs, l.Count)
		}
		lat("latency", rep.Latency)
		lat("echo latency", rep.EchoLatency)
		lat("schedule lag", rep.ScheduleLag)
		row("max backlog", "%d bytes unread by the tool, %d bytes unread by the server (kernel queues, 5 s samples)",
			rep.MaxBacklog.ToolRxBytes, rep.MaxBacklog.ServerRxBytes)
	}
	if v := rep.Verify; v != nil {
		row("diverged", "%d of %d documents (%d could not be fetched)", v.Diverged, v.Docs, v.Unverified)
		for _, p := range v.Problems {
			row("  diverged doc", "%s", p)
		}
	}
	row("disconnects", "%d", rep.Disconnects)
	proc := func(name string, p *procReport) {
		if p == nil {
			row(name, "not measured (no -server-pid)")
			return
		}
		row(name+" cpu", "%.2fs (%.0f%% of a core); connecting %.2fs", p.CPUSeconds, p.CPUPercent, p.ConnectCPUSeconds)
		if p.CPUMicrosPerDelivered > 0 {
			row(name+" cpu/update", "%.1f µs per delivered update", p.CPUMicrosPerDelivered)
		}
		row(name+" rss", "start %.1f MiB, connected %.1f MiB, end %.1f MiB, peak %.1f MiB; %d threads",
			p.RSSStartMiB, p.RSSConnectedMiB, p.RSSEndMiB, p.PeakRSSMiB, p.Threads)
		if p.RSSPerConnKiB != 0 {
			row(name+" rss/conn", "%.1f KiB after settling, %.1f KiB at the end", p.RSSPerConnKiB, p.RSSPerConnEndKiB)
		}
	}
	proc("server", rep.Server)
	proc(fmt.Sprintf("tool (%d procs)", rep.ToolProcs), rep.Tool)
	for _, e := range rep.Errors {
		row("error", "%s", e)
	}
	if rep.OK {
		row("result", "OK")
	} else {
		row("result", "FAILED: %s", strings.Join(rep.Failures, "; "))
	}
	tw.Flush()
}
