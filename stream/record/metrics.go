package record

import "github.com/prometheus/client_golang/prometheus"

// Collector exports the recordings' disk and the Janitor's work as
// Prometheus metrics: the volume's space is read at scrape time, the
// recordings' size and count as of the last pass.
func (j *Janitor) Collector() prometheus.Collector { return janitorCollector{j} }

type janitorCollector struct{ j *Janitor }

var (
	descDiskFree = prometheus.NewDesc("govlive_recordings_disk_free_bytes",
		"Free space on the recordings' volume (what the server may still write).", nil, nil)
	descDiskSize = prometheus.NewDesc("govlive_recordings_disk_size_bytes",
		"Size of the recordings' volume.", nil, nil)
	descMinFree = prometheus.NewDesc("govlive_recordings_disk_min_free_bytes",
		"Free space the janitor keeps on the recordings' volume (0: no floor).", nil, nil)
	descBytes = prometheus.NewDesc("govlive_recordings_bytes",
		"Bytes of the recordings on disk, live ones included, as of the janitor's last pass.", nil, nil)
	descFiles = prometheus.NewDesc("govlive_recordings_files",
		"Recordings on disk, live ones included, as of the janitor's last pass.", nil, nil)
	descLive = prometheus.NewDesc("govlive_recordings_live",
		"Recordings being written.", nil, nil)
	descRemoved = prometheus.NewDesc("govlive_recordings_removed_total",
		"Recordings removed by the janitor, by reason (retention, budget, min_free).", []string{"reason"}, nil)
	descRemovedBytes = prometheus.NewDesc("govlive_recordings_removed_bytes_total",
		"Bytes of the recordings removed by the janitor, by reason.", []string{"reason"}, nil)
	descFailures = prometheus.NewDesc("govlive_recording_write_failures_total",
		"Recordings stopped, or not started, because their file could not be written.", nil, nil)
)

func (c janitorCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDiskFree, descDiskSize, descMinFree, descBytes, descFiles,
		descLive, descRemoved, descRemovedBytes, descFailures} {
		ch <- d
	}
}

func (c janitorCollector) Collect(ch chan<- prometheus.Metric) {
	j := c.j
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	if u, err := j.disk.Usage(j.dir); err == nil {
		gauge(descDiskFree, float64(u.Free))
		gauge(descDiskSize, float64(u.Size))
		gauge(descMinFree, float64(j.minFree.Of(u.Size)))
	}
	j.mu.Lock()
	last := j.last
	j.mu.Unlock()
	gauge(descBytes, float64(last.bytes))
	gauge(descFiles, float64(last.files))
	gauge(descLive, float64(j.reg.Len()))
	for r := range numReasons {
		ch <- prometheus.MustNewConstMetric(descRemoved, prometheus.CounterValue, float64(j.removed[r].Load()), r.String())
		ch <- prometheus.MustNewConstMetric(descRemovedBytes, prometheus.CounterValue, float64(j.removedBytes[r].Load()), r.String())
	}
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(j.reg.Failures()))
}
