#include <charconv>

#include "berth/config/static.hpp"
#include "static_detail.hpp"

namespace berth::config {
namespace {

// Accepts Go's listen addresses: ":80", "0.0.0.0:80", "host:80", "[::]:80", optionally with the
// "/tcp" suffix Traefik allows.
bool is_listen_address(std::string_view address) {
  if (address.ends_with("/tcp")) address.remove_suffix(4);
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) return false;
  } else if (host.find_first_of(":[]") != std::string_view::npos) {
    return false;  // a bare IPv6 address needs brackets
  }
  unsigned number = 0;
  const char* end = port.data() + port.size();
  const auto [ptr, ec] = std::from_chars(port.data(), end, number);
  return !port.empty() && ec == std::errc{} && ptr == end && number <= 65535;
}

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw StaticConfigError{path + ": " + message};
}

void require_entry_point(const StaticConfiguration& c, const std::string& path,
                         const std::string& name) {
  if (!c.entry_points.contains(name)) fail(path, "unknown entry point \"" + name + "\"");
}

}  // namespace

void set_effective_configuration(StaticConfiguration& c) {
  if (c.entry_points.empty()) c.entry_points["http"].address = ":80";

  const bool api_needs_it = c.api && c.api->insecure;
  const bool ping_needs_it = c.ping && c.ping->entry_point == internal_entry_point;
  const bool metrics_needs_it =
      c.metrics.prometheus && c.metrics.prometheus->entry_point == internal_entry_point;
  if (api_needs_it || ping_needs_it || metrics_needs_it) {
    const std::string name{internal_entry_point};
    if (!c.entry_points.contains(name)) c.entry_points[name].address = ":8080";
  }
}

void validate(const StaticConfiguration& c) {
  for (const auto& [name, entry_point] : c.entry_points) {
    const std::string path = "entryPoints." + name;
    if (entry_point.address.empty()) fail(path + ".address", "missing address");
    if (!is_listen_address(entry_point.address)) {
      fail(path + ".address",
           "invalid address \"" + entry_point.address + "\" (expected [host]:port)");
    }
    if (const auto& redirect = entry_point.http.redirection) {
      const std::string target = path + ".http.redirections.entryPoint.to";
      if (redirect->to.empty()) fail(target, "missing target entry point");
      // A port (":443") is accepted as well as an entry point name.
      if (!redirect->to.starts_with(':')) require_entry_point(c, target, redirect->to);
      if (redirect->to == name) fail(target, "an entry point cannot redirect to itself");
      if (redirect->scheme.empty()) fail(path + ".http.redirections.entryPoint.scheme", "empty");
    }
  }
  if (c.ping) require_entry_point(c, "ping.entryPoint", c.ping->entry_point);
  if (c.ping && (c.ping->terminating_status_code < 100 || c.ping->terminating_status_code > 599)) {
    fail("ping.terminatingStatusCode", "not an HTTP status code (100-599)");
  }
  if (c.metrics.prometheus) {
    require_entry_point(c, "metrics.prometheus.entryPoint", c.metrics.prometheus->entry_point);
  }
  if (c.providers.docker && c.providers.docker->endpoint.find("://") == std::string::npos) {
    fail("providers.docker.endpoint",
         "invalid endpoint \"" + c.providers.docker->endpoint +
             "\" (expected a URL such as unix:///var/run/docker.sock or tcp://host:2375)");
  }
  if (c.providers.providers_throttle_duration.count() < 0) {
    fail("providers.providersThrottleDuration", "must not be negative");
  }
  if (!is_log_level(c.log.level)) fail("log.level", "unknown level \"" + c.log.level + "\"");
  if (!is_format(c.log.format)) fail("log.format", "unknown format \"" + c.log.format + "\"");
  if (c.access_log && !is_format(c.access_log->format)) {
    fail("accessLog.format", "unknown format \"" + c.access_log->format + "\"");
  }
  if (c.access_log && c.access_log->buffering_size < 0) {
    fail("accessLog.bufferingSize", "must not be negative");
  }
  if (c.servers_transport.max_idle_conns_per_host < 0) {
    fail("serversTransport.maxIdleConnsPerHost", "must not be negative");
  }
  if (c.workers < 0) fail("workers", "must be 0 (one per core) or more");
}

StaticConfiguration parse_static_configuration(const std::vector<std::string>& args,
                                               const std::vector<std::string>& environment) {
  StaticConfiguration configuration;
  // Like Traefik's loaders: flags when there are any, otherwise the environment.
  if (!args.empty()) {
    apply_flags(configuration, args);
  } else {
    apply_environment(configuration, environment);
  }
  set_effective_configuration(configuration);
  validate(configuration);
  return configuration;
}

}  // namespace berth::config
