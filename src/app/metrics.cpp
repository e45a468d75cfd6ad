#include "metrics.hpp"

#include <array>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace berth::app {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct ScopeNames {
  proxy::Scope scope;
  const char* prefix;  ///< "traefik_entrypoint"
  const char* label;   ///< "entrypoint"
  const char* what;    ///< for the help texts
};

constexpr std::array<ScopeNames, 3> scopes{{
    {proxy::Scope::entry_point, "traefik_entrypoint", "entrypoint", "an entry point"},
    {proxy::Scope::router, "traefik_router", "router", "a router"},
    {proxy::Scope::service, "traefik_service", "service", "a service"},
}};

Labels request_labels(const proxy::RequestSeries& series, const char* scope_label) {
  return {{"code", std::to_string(series.code)},
          {"method", series.method},
          {"protocol", std::string(proxy::to_string(series.protocol))},
          {scope_label, series.name}};
}

bool wanted(proxy::Scope scope, const proxy::MetricsOptions& options) {
  switch (scope) {
    case proxy::Scope::entry_point:
      return options.entry_points;
    case proxy::Scope::router:
      return options.routers;
    case proxy::Scope::service:
      return options.services;
  }
  return false;
}

void add_scope(std::vector<api::MetricFamily>& out, const proxy::MetricsSnapshot& snapshot,
               const ScopeNames& names) {
  const std::string prefix = names.prefix;
  api::MetricFamily requests{prefix + "_requests_total",
                             fmt::format("How many HTTP requests {} processed.", names.what),
                             "counter",
                             {}};
  api::MetricFamily duration{
      prefix + "_request_duration_seconds",
      fmt::format("How long {} took to process requests, in seconds.", names.what),
      "histogram",
      {}};
  api::MetricFamily request_bytes{prefix + "_requests_bytes_total",
                                  fmt::format("Request body bytes {} received.", names.what),
                                  "counter",
                                  {}};
  api::MetricFamily response_bytes{prefix + "_responses_bytes_total",
                                   fmt::format("Response body bytes {} sent.", names.what),
                                   "counter",
                                   {}};
  api::MetricFamily open{
      prefix + "_open_connections",
      fmt::format("Requests {} is processing now (WebSockets until they close).", names.what),
      "gauge",
      {}};

  for (const proxy::RequestSeries& series : snapshot.requests) {
    if (series.scope != names.scope) continue;
    Labels labels = request_labels(series, names.label);
    requests.samples.emplace_back(labels, static_cast<double>(series.requests));
    request_bytes.samples.emplace_back(labels, static_cast<double>(series.request_bytes));
    response_bytes.samples.emplace_back(labels, static_cast<double>(series.response_bytes));
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < series.buckets.size(); ++i) {
      cumulative += series.buckets[i];
      Labels bucket = labels;
      bucket.emplace_back("le", i < proxy::duration_buckets.size()
                                    ? fmt::format("{}", proxy::duration_buckets[i])
                                    : std::string("+Inf"));
      duration.samples.emplace_back(std::move(bucket), static_cast<double>(cumulative), "_bucket");
    }
    duration.samples.emplace_back(labels, series.duration_seconds, "_sum");
    duration.samples.emplace_back(std::move(labels), static_cast<double>(cumulative), "_count");
  }
  for (const proxy::OpenSeries& series : snapshot.open) {
    if (series.scope != names.scope) continue;
    api::MetricSample::Labels labels{{"method", series.method},
                                     {"protocol", std::string(proxy::to_string(series.protocol))},
                                     {names.label, series.name}};
    open.samples.emplace_back(std::move(labels), static_cast<double>(series.open));
  }
  for (api::MetricFamily* family : {&requests, &duration, &open, &request_bytes, &response_bytes}) {
    // As Prometheus' Go client: a family without any series is not written.
    if (!family->samples.empty()) out.push_back(std::move(*family));
  }
}

}  // namespace

std::vector<api::MetricFamily> request_families(const proxy::MetricsSnapshot& snapshot,
                                                const proxy::MetricsOptions& options,
                                                bool access_log) {
  std::vector<api::MetricFamily> out;
  if (options.enabled) {
    api::MetricFamily connections{"traefik_open_connections",
                                  "Open client connections, by entry point and protocol.",
                                  "gauge",
                                  {}};
    for (const proxy::ConnectionSeries& series : snapshot.connections) {
      connections.samples.emplace_back(
          api::MetricSample::Labels{{"entrypoint", series.entry_point}, {"protocol", "TCP"}},
          static_cast<double>(series.open));
    }
    if (!connections.samples.empty()) out.push_back(std::move(connections));
    for (const ScopeNames& names : scopes) {
      if (wanted(names.scope, options)) add_scope(out, snapshot, names);
    }
  }
  if (access_log) {
    out.push_back({"berth_accesslog_lines_total",
                   "Access log lines queued for writing.",
                   "counter",
                   {{{}, static_cast<double>(snapshot.access_log_written)}}});
    out.push_back({"berth_accesslog_dropped_lines_total",
                   "Access log lines dropped because the writer fell behind.",
                   "counter",
                   {{{}, static_cast<double>(snapshot.access_log_dropped)}}});
  }
  return out;
}

std::vector<api::MetricFamily> docker_families(const docker::ProviderCounters& counters) {
  std::vector<api::MetricFamily> out;
  out.push_back({"berth_docker_events_total",
                 "Docker events received from the event stream.",
                 "counter",
                 {{{}, static_cast<double>(counters.events.load(std::memory_order_relaxed))}}});
  const std::int64_t latency = counters.last_event_to_publish_ns.load(std::memory_order_relaxed);
  if (latency >= 0) {
    out.push_back(
        {"berth_docker_event_to_publish_seconds",
         "For the last configuration change caused by Docker events: seconds from the "
         "first of those events to the new configuration being handed over for publishing.",
         "gauge",
         {{{}, static_cast<double>(latency) / 1e9}}});
  }
  return out;
}

}  // namespace berth::app
