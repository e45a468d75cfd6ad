#pragma once
// The proxy's request metrics as Traefik names them in Prometheus, for the API server's /metrics:
// traefik_open_connections{entrypoint,protocol},
// traefik_{entrypoint,router,service}_{requests_total, request_duration_seconds, open_connections,
// requests_bytes_total, responses_bytes_total}, and berth's access log and Docker provider
// counters.

#include <vector>

#include "berth/api/metrics.hpp"
#include "berth/docker/provider.hpp"
#include "berth/proxy/metrics.hpp"

namespace berth::app {

/// Families of the enabled scopes that have samples; berth_accesslog_* only with `access_log`.
std::vector<api::MetricFamily> request_families(const proxy::MetricsSnapshot& snapshot,
                                                const proxy::MetricsOptions& options,
                                                bool access_log);

/// berth_docker_events_total and berth_docker_event_to_publish_seconds (once an event has changed
/// the configuration).
std::vector<api::MetricFamily> docker_families(const docker::ProviderCounters& counters);

}  // namespace berth::app
