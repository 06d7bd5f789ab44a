package stream

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// AnchorStats describes one live publication.
type AnchorStats struct {
	Anchor string    `json:"anchor"`
	Slot   int       `json:"slot"` // -1: waiting for a free slot
	Since  time.Time `json:"since"`
	Video  string    `json:"video,omitempty"`
	Audio  string    `json:"audio,omitempty"`
}

// SessionStats is a session's state and running totals.
type SessionStats struct {
	Session          SessionID     `json:"session"`
	Anchors          []AnchorStats `json:"anchors"`
	Viewers          int           `json:"viewers"`
	BitrateIn        float64       `json:"bitrate_in_bps"`
	BitrateOut       float64       `json:"bitrate_out_bps"`
	PacketsIn        uint64        `json:"packets_in"`
	PacketsOut       uint64        `json:"packets_out"`
	BytesIn          uint64        `json:"bytes_in"`
	BytesOut         uint64        `json:"bytes_out"`
	LostIn           uint64        `json:"packets_lost_in"`
	LossIn           float64       `json:"loss_in"`
	DuplicatesIn     uint64        `json:"duplicates_in"`
	ViewerLoss       float64       `json:"viewer_loss"` // mean of the viewers' receiver-report loss fractions
	Drops            uint64        `json:"drops"`
	KeyframeRequests uint64        `json:"keyframe_requests"`
	NACKs            uint64        `json:"nacks"`
	Resent           uint64        `json:"resent"`
	CodecMismatches  uint64        `json:"codec_mismatches"` // packets a viewer could not take (no common codec for the slot's source)
	ViewersTotal     uint64        `json:"viewers_total"`
	ViewersKicked    uint64        `json:"viewers_disconnected_behind"`
	Publications     uint64        `json:"publications_total"`
	Edge             bool          `json:"edge"`
}

// rateSample remembers the last byte counts to compute bitrates.
type rateSample struct {
	at            time.Time
	in, out       uint64
	rateIn, rateO float64
}

// Stats returns the session's stats; ok is false if nothing was ever live
// in it on this relay.
func (r *Relay) Stats(id SessionID) (SessionStats, bool) {
	r.mu.Lock()
	s := r.sessions[id]
	r.mu.Unlock()
	if s == nil {
		return SessionStats{Session: id, Anchors: []AnchorStats{}, Edge: r.cfg.Origin != ""}, false
	}
	return s.stats(), true
}

// AllStats returns the stats of every session seen, by id.
func (r *Relay) AllStats() []SessionStats {
	r.mu.Lock()
	sessions := make([]*session, 0, len(r.sessions))
	for _, s := range r.sessions {
		sessions = append(sessions, s)
	}
	r.mu.Unlock()
	out := make([]SessionStats, 0, len(sessions))
	for _, s := range sessions {
		out = append(out, s.stats())
	}
	slices.SortFunc(out, func(a, b SessionStats) int {
		switch {
		case a.Session < b.Session:
			return -1
		case a.Session > b.Session:
			return 1
		}
		return 0
	})
	return out
}

func (s *session) stats() SessionStats {
	c := &s.counters
	st := SessionStats{
		Session:          s.id,
		PacketsIn:        c.packetsIn.Load(),
		PacketsOut:       c.packetsOut.Load(),
		BytesIn:          c.bytesIn.Load(),
		BytesOut:         c.bytesOut.Load(),
		LostIn:           c.lost.Load(),
		DuplicatesIn:     c.duplicates.Load(),
		Drops:            c.drops.Load(),
		KeyframeRequests: c.keyframeRequests.Load(),
		NACKs:            c.nacks.Load(),
		Resent:           c.resent.Load(),
		CodecMismatches:  c.codecMismatches.Load(),
		ViewersTotal:     c.viewersTotal.Load(),
		ViewersKicked:    c.viewersKicked.Load(),
		Publications:     c.publicationsTotal.Load(),
		Edge:             s.relay.cfg.Origin != "",
		Anchors:          []AnchorStats{},
	}
	if total := st.PacketsIn + st.LostIn; total > 0 {
		st.LossIn = float64(st.LostIn) / float64(total)
	}
	s.mu.Lock()
	add := func(src *source) {
		a := AnchorStats{Anchor: src.anchor, Slot: src.slot, Since: src.since}
		if src.video != nil {
			a.Video = src.video.codec.MimeType
		}
		if src.audio != nil {
			a.Audio = src.audio.codec.MimeType
		}
		st.Anchors = append(st.Anchors, a)
	}
	for _, src := range s.slots {
		if src != nil {
			add(src)
		}
	}
	for _, src := range s.waiting {
		add(src)
	}
	st.Viewers = len(s.viewers)
	var loss float64
	for v := range s.viewers {
		loss += float64(v.lossFraction.Load()) / 256
	}
	if st.Viewers > 0 {
		st.ViewerLoss = loss / float64(st.Viewers)
	}
	now := s.relay.cfg.Now()
	r := &s.rate
	if dt := now.Sub(r.at).Seconds(); r.at.IsZero() || dt >= 1 {
		if !r.at.IsZero() {
			r.rateIn = float64(st.BytesIn-r.in) * 8 / dt
			r.rateO = float64(st.BytesOut-r.out) * 8 / dt
		}
		r.at, r.in, r.out = now, st.BytesIn, st.BytesOut
	}
	st.BitrateIn, st.BitrateOut = r.rateIn, r.rateO
	s.mu.Unlock()
	return st
}

// Collector exports every session's stats as Prometheus metrics, read at
// scrape time (nothing is counted twice on the packet path).
func (r *Relay) Collector() prometheus.Collector { return collector{r} }

type collector struct{ r *Relay }

var (
	label       = []string{"session"}
	descAnchors = prometheus.NewDesc("govlive_stream_anchors", "Anchors live in the session.", label, nil)
	descViewers = prometheus.NewDesc("govlive_stream_viewers", "Viewers watching the session.", label, nil)
	descBitIn   = prometheus.NewDesc("govlive_stream_bitrate_in_bps", "Bitrate received from anchors, bits per second.", label, nil)
	descBitOut  = prometheus.NewDesc("govlive_stream_bitrate_out_bps", "Bitrate sent to viewers, bits per second.", label, nil)
	descBytesIn = prometheus.NewDesc("govlive_stream_received_bytes_total", "RTP bytes received from anchors.", label, nil)
	descBytesO  = prometheus.NewDesc("govlive_stream_sent_bytes_total", "RTP bytes sent to viewers.", label, nil)
	descPktIn   = prometheus.NewDesc("govlive_stream_received_packets_total", "RTP packets received from anchors.", label, nil)
	descPktOut  = prometheus.NewDesc("govlive_stream_sent_packets_total", "RTP packets sent to viewers.", label, nil)
	descLost    = prometheus.NewDesc("govlive_stream_lost_packets_total", "Packets missing from anchors' streams (sequence gaps).", label, nil)
	descDrops   = prometheus.NewDesc("govlive_stream_dropped_packets_total", "Packets dropped for viewers that fell behind.", label, nil)
	descKey     = prometheus.NewDesc("govlive_stream_keyframe_requests_total", "Keyframe requests sent to anchors.", label, nil)
	descNACK    = prometheus.NewDesc("govlive_stream_nacks_total", "NACKs received from viewers.", label, nil)
	descResent  = prometheus.NewDesc("govlive_stream_resent_packets_total", "Packets resent from the cache for NACKs.", label, nil)
	descKicked  = prometheus.NewDesc("govlive_stream_viewers_disconnected_total", "Viewers disconnected for falling behind.", label, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAnchors, descViewers, descBitIn, descBitOut, descBytesIn, descBytesO,
		descPktIn, descPktOut, descLost, descDrops, descKey, descNACK, descResent, descKicked} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.r.AllStats() {
		id := string(s.Session)
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, id)
		}
		counter := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), id)
		}
		gauge(descAnchors, float64(len(s.Anchors)))
		gauge(descViewers, float64(s.Viewers))
		gauge(descBitIn, s.BitrateIn)
		gauge(descBitOut, s.BitrateOut)
		counter(descBytesIn, s.BytesIn)
		counter(descBytesO, s.BytesOut)
		counter(descPktIn, s.PacketsIn)
		counter(descPktOut, s.PacketsOut)
		counter(descLost, s.LostIn)
		counter(descDrops, s.Drops)
		counter(descKey, s.KeyframeRequests)
		counter(descNACK, s.NACKs)
		counter(descResent, s.Resent)
		counter(descKicked, s.ViewersKicked)
	}
}
