#include <algorithm>
#include <array>
#include <cctype>
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

// Traefik's field names (pkg/middlewares/accesslog/logdata.go), those berth does not write
// included, so that a Traefik configuration is accepted as it is.
constexpr std::array<std::string_view, 40> field_names{"StartUTC",
                                                       "StartLocal",
                                                       "Duration",
                                                       "RouterName",
                                                       "ServiceName",
                                                       "ServiceURL",
                                                       "ServiceAddr",
                                                       "ClientAddr",
                                                       "ClientHost",
                                                       "ClientPort",
                                                       "ClientUsername",
                                                       "RequestAddr",
                                                       "RequestHost",
                                                       "RequestPort",
                                                       "RequestMethod",
                                                       "RequestPath",
                                                       "RequestProtocol",
                                                       "RequestScheme",
                                                       "RequestContentSize",
                                                       "OriginDuration",
                                                       "OriginContentSize",
                                                       "OriginStatus",
                                                       "DownstreamStatus",
                                                       "DownstreamContentSize",
                                                       "RequestCount",
                                                       "GzipRatio",
                                                       "Overhead",
                                                       "RetryAttempts",
                                                       "TLSVersion",
                                                       "TLSCipher",
                                                       "TLSClientSubject",
                                                       "TraceId",
                                                       "SpanId",
                                                       "trace_id",
                                                       "span_id",
                                                       "KubernetesIngressNamespace",
                                                       "KubernetesIngressName",
                                                       "KubernetesServiceName",
                                                       "KubernetesServicePort",
                                                       "entryPointName"};

bool same_letters(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

/// An HTTP token, as a header name must be.
bool is_header_name(std::string_view name) {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           specials.find(c) != std::string_view::npos;
  });
}

void validate_access_log(const AccessLog& log) {
  if (!is_format(log.format)) fail("accessLog.format", "unknown format \"" + log.format + "\"");
  if (log.buffering_size < 0) fail("accessLog.bufferingSize", "must not be negative");
  for (const auto& range : log.filters.status_codes) {
    if (!parse_status_code_range(range)) {
      fail("accessLog.filters.statusCodes",
           "invalid status code range \"" + range +
               "\" (expected a code such as 404 or a range such as 500-599, from 100 to 999)");
    }
  }
  if (log.filters.min_duration.count() < 0) {
    fail("accessLog.filters.minDuration", "must not be negative");
  }
  if (!is_field_mode(log.fields.default_mode)) {
    fail("accessLog.fields.defaultMode",
         "unknown mode \"" + log.fields.default_mode + "\" (expected keep or drop)");
  }
  for (const auto& [name, mode] : log.fields.names) {
    const std::string path = "accessLog.fields.names." + name;
    const bool known =
        std::any_of(field_names.begin(), field_names.end(),
                    [&name = name](std::string_view field) { return same_letters(field, name); });
    // Traefik ignores a name it does not know; a typo would silently keep a field meant to go.
    if (!known) fail(path, "unknown field \"" + name + "\"");
    if (!is_field_mode(mode)) fail(path, "unknown mode \"" + mode + "\" (expected keep or drop)");
  }
  const auto& headers = log.fields.headers;
  if (!is_header_mode(headers.default_mode)) {
    fail("accessLog.fields.headers.defaultMode",
         "unknown mode \"" + headers.default_mode + "\" (expected keep, drop or redact)");
  }
  for (const auto& [name, mode] : headers.names) {
    const std::string path = "accessLog.fields.headers.names." + name;
    if (!is_header_name(name)) fail(path, "invalid header name \"" + name + "\"");
    if (!is_header_mode(mode)) {
      fail(path, "unknown mode \"" + mode + "\" (expected keep, drop or redact)");
    }
  }
}

}  // namespace

std::optional<std::pair<unsigned, unsigned>> parse_status_code_range(std::string_view text) {
  const auto code = [](std::string_view digits) -> std::optional<unsigned> {
    unsigned number = 0;
    const char* end = digits.data() + digits.size();
    const auto [ptr, ec] = std::from_chars(digits.data(), end, number);
    if (digits.empty() || ec != std::errc{} || ptr != end || number < 100 || number > 999) {
      return std::nullopt;
    }
    return number;
  };
  const auto dash = text.find('-');
  const auto low = code(text.substr(0, dash));
  const auto high = dash == std::string_view::npos ? low : code(text.substr(dash + 1));
  if (!low || !high || *low > *high) return std::nullopt;
  return std::pair{*low, *high};
}

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
  if (c.access_log) validate_access_log(*c.access_log);
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
