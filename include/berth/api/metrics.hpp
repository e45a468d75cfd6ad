#pragma once
// /metrics in the Prometheus text exposition format (version 0.0.4). Pure: the server calls
// render_metrics with the current State and whatever the MetricsSource returns.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "berth/api/state.hpp"

namespace berth::api {

struct MetricSample {
  using Labels = std::vector<std::pair<std::string, std::string>>;  ///< name, value

  MetricSample() = default;
  MetricSample(Labels sample_labels, double sample_value, std::string sample_suffix = {})
      : labels(std::move(sample_labels)), value(sample_value), suffix(std::move(sample_suffix)) {}

  Labels labels;
  double value = 0;
  /// Histograms only: "_bucket" (with an `le` label), "_sum" or "_count"; other suffixes are
  /// skipped.
  std::string suffix;
};

/// One metric family: `# HELP`, `# TYPE` and its samples.
struct MetricFamily {
  std::string name;  ///< [a-zA-Z_:][a-zA-Z0-9_:]*; families with invalid names are skipped
  std::string help;
  std::string type = "counter";  ///< counter | gauge | histogram | untyped
  std::vector<MetricSample> samples;
};

/// Called on the API's thread at every scrape: must be thread-safe and quick (read atomics).
using MetricsSource = std::function<std::vector<MetricFamily>()>;

inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// traefik_config_reloads_total, traefik_config_last_reload_success,
/// berth_http_{routers,services,middlewares}{status}, traefik_service_server_up{service,url},
/// berth_containers{routed}, then `extra`: Traefik's names where Traefik has the metric, berth_
/// for the others. Invalid metric or label names are skipped, label values escaped.
std::string render_metrics(const State& state, const std::vector<MetricFamily>& extra);

}  // namespace berth::api
