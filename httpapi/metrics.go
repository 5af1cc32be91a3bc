package httpapi

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	qsync "github.com/quire/quire/sync"
)

// Metrics is the Prometheus implementation of sync.Metrics. Register it
// once per registry; the same registry is served at /metrics.
type Metrics struct {
	roomsOpen      prometheus.Gauge
	sessionsOpen   prometheus.Gauge
	sessionEnds    *prometheus.CounterVec
	msgsIn         *prometheus.CounterVec
	bytesIn        prometheus.Counter
	msgsOut        prometheus.Counter
	bytesOut       prometheus.Counter
	committedDocs  prometheus.Counter
	committedBytes prometheus.Counter
	commitErrors   prometheus.Counter
	persistSeconds prometheus.Histogram
	persistBatch   prometheus.Histogram
	fanoutSeconds  prometheus.Histogram
	fanoutSessions prometheus.Histogram
	droppedMsgs    prometheus.Counter
	droppedBytes   prometheus.Counter
	compactions    *prometheus.CounterVec
	compactSeconds prometheus.Histogram
}

var _ qsync.Metrics = (*Metrics)(nil)

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	latency := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
	m := &Metrics{
		roomsOpen: prometheus.NewGauge(prometheus.GaugeOpts{Name: "quire_rooms_open",
			Help: "Documents currently open (loaded in a room)."}),
		sessionsOpen: prometheus.NewGauge(prometheus.GaugeOpts{Name: "quire_sessions_open",
			Help: "Client sessions currently connected."}),
		sessionEnds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "quire_session_ends_total",
			Help: "Sessions ended, by reason."}, []string{"reason"}),
		msgsIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "quire_messages_received_total",
			Help: "Client messages received, by type (update, sync_step1, awareness, query_awareness, other)."}, []string{"type"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{Name: "quire_received_bytes_total",
			Help: "Bytes of client messages received."}),
		msgsOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "quire_messages_sent_total",
			Help: "Messages written to clients (one per client per message)."}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "quire_sent_bytes_total",
			Help: "Bytes written to clients."}),
		committedDocs: prometheus.NewCounter(prometheus.CounterOpts{Name: "quire_updates_persisted_total",
			Help: "Updates written durably to the log."}),
		committedBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "quire_persisted_bytes_total",
			Help: "Bytes of updates written durably to the log."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "quire_persist_errors_total",
			Help: "Group commits that failed."}),
		persistSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "quire_persist_seconds",
			Help: "Duration of one group commit (one transaction, one fsync).", Buckets: latency}),
		persistBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "quire_persist_batch_entries",
			Help: "Updates per group commit.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		fanoutSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "quire_broadcast_seconds",
			Help: "Time from an update's arrival to its hand-off to every session of its room (includes the wait for durability).", Buckets: latency}),
		fanoutSessions: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "quire_broadcast_fanout_sessions",
			Help: "Sessions an update was broadcast to.", Buckets: prometheus.ExponentialBuckets(1, 2, 12)}),
		droppedMsgs: prometheus.NewCounter(prometheus.CounterOpts{Name: "quire_queue_dropped_messages_total",
			Help: "Messages discarded when a slow client was cut off."}),
		droppedBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "quire_queue_dropped_bytes_total",
			Help: "Bytes discarded when a slow client was cut off."}),
		compactions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "quire_compactions_total",
			Help: "Snapshots written, by result (ok, error)."}, []string{"result"}),
		compactSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "quire_compaction_seconds",
			Help: "Duration of one snapshot write.", Buckets: latency}),
	}
	reg.MustRegister(m.roomsOpen, m.sessionsOpen, m.sessionEnds, m.msgsIn, m.bytesIn, m.msgsOut,
		m.bytesOut, m.committedDocs, m.committedBytes, m.commitErrors, m.persistSeconds, m.persistBatch,
		m.fanoutSeconds, m.fanoutSessions, m.droppedMsgs, m.droppedBytes, m.compactions, m.compactSeconds)
	// Every label value exists from the start, so dashboards see zeros.
	for _, r := range qsync.AllCloseReasons() {
		m.sessionEnds.WithLabelValues(r.String())
	}
	for _, t := range []string{"update", "sync_step1", "awareness", "query_awareness", "other"} {
		m.msgsIn.WithLabelValues(t)
	}
	m.compactions.WithLabelValues("ok")
	m.compactions.WithLabelValues("error")
	return m
}

func (m *Metrics) RoomOpened()     { m.roomsOpen.Inc() }
func (m *Metrics) RoomClosed()     { m.roomsOpen.Dec() }
func (m *Metrics) SessionStarted() { m.sessionsOpen.Inc() }
func (m *Metrics) SessionEnded(r qsync.CloseReason) {
	m.sessionsOpen.Dec()
	m.sessionEnds.WithLabelValues(r.String()).Inc()
}
func (m *Metrics) MessageReceived(kind string, n int) {
	m.msgsIn.WithLabelValues(kind).Inc()
	m.bytesIn.Add(float64(n))
}
func (m *Metrics) MessageSent(n int) {
	m.msgsOut.Inc()
	m.bytesOut.Add(float64(n))
}
func (m *Metrics) Committed(entries, bytes int, took time.Duration, err error) {
	m.persistSeconds.Observe(took.Seconds())
	if err != nil {
		m.commitErrors.Inc()
		return
	}
	m.persistBatch.Observe(float64(entries))
	m.committedDocs.Add(float64(entries))
	m.committedBytes.Add(float64(bytes))
}
func (m *Metrics) FannedOut(sessions int, since time.Duration) {
	m.fanoutSeconds.Observe(since.Seconds())
	m.fanoutSessions.Observe(float64(sessions))
}
func (m *Metrics) QueueDropped(msgs, bytes int) {
	m.droppedMsgs.Add(float64(msgs))
	m.droppedBytes.Add(float64(bytes))
}
func (m *Metrics) Compacted(took time.Duration, err error) {
	m.compactSeconds.Observe(took.Seconds())
	if err != nil {
		m.compactions.WithLabelValues("error").Inc()
		return
	}
	m.compactions.WithLabelValues("ok").Inc()
}
