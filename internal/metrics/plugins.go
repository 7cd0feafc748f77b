package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookrt/hookd/hook"
)

// pluginCollector turns what the plugin modules report (hook.PluginStatus)
// into gauges at each scrape: how many plugins run, and how many warm
// instances their pools hold (what the memory of the process goes to), by
// domain only with PerTarget. Reading the statuses is cheap (counters in
// memory), so it is not cached.
type pluginCollector struct {
	plugins   func() []hook.PluginStatus
	perTarget bool
	count     *prometheus.Desc
	instances *prometheus.Desc
}

func newPluginCollector(plugins func() []hook.PluginStatus, perTarget bool) *pluginCollector {
	var labels []string
	if perTarget {
		labels = []string{"domain"}
	}
	return &pluginCollector{plugins: plugins, perTarget: perTarget,
		count:     prometheus.NewDesc("hookd_plugins", "WASM plugins loaded.", nil, nil),
		instances: prometheus.NewDesc("hookd_plugin_instances", "Warm instances in the WASM plugins' pools.", labels, nil),
	}
}

func (c *pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.count
	ch <- c.instances
}

func (c *pluginCollector) Collect(ch chan<- prometheus.Metric) {
	ps := c.plugins()
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(len(ps)))
	if c.perTarget {
		for _, p := range ps {
			ch <- prometheus.MustNewConstMetric(c.instances, prometheus.GaugeValue, float64(p.Instances), p.Domain)
		}
		return
	}
	total := 0
	for _, p := range ps {
		total += p.Instances
	}
	ch <- prometheus.MustNewConstMetric(c.instances, prometheus.GaugeValue, float64(total))
}
