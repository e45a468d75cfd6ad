// The one table of static-configuration flags. It drives flag parsing, environment variables and
// --help; each row names its path (with `*` for a user-chosen name), what it sets and how.

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <variant>

#include "berth/config/static.hpp"
#include "berth/config/static_json.hpp"
#include "static_detail.hpp"

namespace berth::config {
namespace {

using Names = std::vector<std::string>;
template <class T>
using Field = T& (*)(StaticConfiguration&, const Names&);
/// A section such as `--api` or `--providers.docker`: enabled (with defaults) or removed.
using Section = void (*)(StaticConfiguration&, const Names&, bool enabled);
using Target = std::variant<Field<std::string>, Field<bool>, Field<std::int64_t>, Field<Duration>,
                            Field<std::vector<std::string>>, Section>;

struct Flag {
  std::string_view path;
  std::string_view description;
  Target target;
  std::span<const std::string_view> choices = {};
};

template <class T>
T& on(std::optional<T>& section) {
  if (!section) section.emplace();
  return *section;
}

template <class T>
void toggle(std::optional<T>& section, bool enabled) {
  if (!enabled) {
    section.reset();
  } else if (!section) {
    section.emplace();
  }
}

EntryPoint& entry_point(StaticConfiguration& c, const Names& n) {
  return c.entry_points[n.at(0)];
}
RedirectEntryPoint& redirection(StaticConfiguration& c, const Names& n) {
  return on(entry_point(c, n).http.redirection);
}
DockerProvider& docker(StaticConfiguration& c) {
  return on(c.providers.docker);
}
DockerTls& docker_tls(StaticConfiguration& c) {
  return on(docker(c).tls);
}
Prometheus& prometheus(StaticConfiguration& c) {
  return on(c.metrics.prometheus);
}
Acme& acme(StaticConfiguration& c, const Names& n) {
  return on(c.certificates_resolvers[n.at(0)].acme);
}

constexpr std::array<std::string_view, 7> log_levels{"TRACE", "DEBUG", "INFO", "WARN",
                                                     "ERROR", "FATAL", "PANIC"};
constexpr std::array<std::string_view, 2> log_formats{"common", "json"};
constexpr std::array<std::string_view, 2> field_modes{"keep", "drop"};
constexpr std::array<std::string_view, 3> header_modes{"keep", "drop", "redact"};

// clang-format off
const std::vector<Flag>& flag_table() {
  static const std::vector<Flag> table{
    {"global.checkNewVersion", "Accepted for compatibility; berth never checks for updates.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return c.global.check_new_version; }}},
    {"global.sendAnonymousUsage", "Accepted for compatibility; berth sends no usage data.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return c.global.send_anonymous_usage; }}},

    {"entryPoints.*.address", "Entry point address, [host]:port.",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return entry_point(c, n).address; }}},
    {"entryPoints.*.asDefault", "Routers with no entryPoints use this entry point (and the other defaults).",
     Field<bool>{[](StaticConfiguration& c, const Names& n) -> bool& {
       return entry_point(c, n).as_default; }}},
    {"entryPoints.*.transport.respondingTimeouts.readTimeout",
     "Longest time to read an entire request, body included; 0 means no limit.",
     Field<Duration>{[](StaticConfiguration& c, const Names& n) -> Duration& {
       return entry_point(c, n).transport.responding_timeouts.read_timeout; }}},
    {"entryPoints.*.transport.respondingTimeouts.writeTimeout",
     "Longest time to write a response; 0 means no limit.",
     Field<Duration>{[](StaticConfiguration& c, const Names& n) -> Duration& {
       return entry_point(c, n).transport.responding_timeouts.write_timeout; }}},
    {"entryPoints.*.transport.respondingTimeouts.idleTimeout",
     "Longest time an idle keep-alive connection stays open; 0 means no limit.",
     Field<Duration>{[](StaticConfiguration& c, const Names& n) -> Duration& {
       return entry_point(c, n).transport.responding_timeouts.idle_timeout; }}},
    {"entryPoints.*.transport.lifecycle.requestAcceptGraceTimeout",
     "On shutdown, keep accepting requests this long before stopping.",
     Field<Duration>{[](StaticConfiguration& c, const Names& n) -> Duration& {
       return entry_point(c, n).transport.lifecycle.request_accept_grace_timeout; }}},
    {"entryPoints.*.transport.lifecycle.graceTimeOut",
     "On shutdown, let active requests finish for this long.",
     Field<Duration>{[](StaticConfiguration& c, const Names& n) -> Duration& {
       return entry_point(c, n).transport.lifecycle.grace_timeout; }}},
    {"entryPoints.*.http.redirections.entryPoint", "Redirect every request to another entry point.",
     Section{[](StaticConfiguration& c, const Names& n, bool enabled) {
       toggle(entry_point(c, n).http.redirection, enabled); }}},
    {"entryPoints.*.http.redirections.entryPoint.to",
     "Target of the redirection: an entry point name or a port (:443).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return redirection(c, n).to; }}},
    {"entryPoints.*.http.redirections.entryPoint.scheme", "Scheme of the redirection target.",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return redirection(c, n).scheme; }}},
    {"entryPoints.*.http.redirections.entryPoint.permanent", "Redirect permanently (308) rather than 307.",
     Field<bool>{[](StaticConfiguration& c, const Names& n) -> bool& {
       return redirection(c, n).permanent; }}},
    {"entryPoints.*.http.redirections.entryPoint.priority", "Priority of the generated redirection router.",
     Field<std::int64_t>{[](StaticConfiguration& c, const Names& n) -> std::int64_t& {
       return redirection(c, n).priority; }}},
    {"entryPoints.*.http.tls", "Routers on this entry point use TLS by default.",
     Field<bool>{[](StaticConfiguration& c, const Names& n) -> bool& {
       return entry_point(c, n).http.tls; }}},
    {"entryPoints.*.forwardedHeaders.insecure", "Trust X-Forwarded-* headers from any client.",
     Field<bool>{[](StaticConfiguration& c, const Names& n) -> bool& {
       return entry_point(c, n).forwarded_headers.insecure; }}},
    {"entryPoints.*.forwardedHeaders.trustedIPs", "Trust X-Forwarded-* headers from these IPs/CIDRs.",
     Field<std::vector<std::string>>{[](StaticConfiguration& c, const Names& n)
                                         -> std::vector<std::string>& {
       return entry_point(c, n).forwarded_headers.trusted_ips; }}},

    {"serversTransport.insecureSkipVerify", "Do not verify the certificates of HTTPS backends.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return c.servers_transport.insecure_skip_verify; }}},
    {"serversTransport.maxIdleConnsPerHost", "Idle keep-alive connections kept per backend.",
     Field<std::int64_t>{[](StaticConfiguration& c, const Names&) -> std::int64_t& {
       return c.servers_transport.max_idle_conns_per_host; }}},
    {"serversTransport.forwardingTimeouts.dialTimeout", "Longest time to connect to a backend.",
     Field<Duration>{[](StaticConfiguration& c, const Names&) -> Duration& {
       return c.servers_transport.forwarding_timeouts.dial_timeout; }}},
    {"serversTransport.forwardingTimeouts.responseHeaderTimeout",
     "Longest wait for a backend's response headers; 0 means no limit.",
     Field<Duration>{[](StaticConfiguration& c, const Names&) -> Duration& {
       return c.servers_transport.forwarding_timeouts.response_header_timeout; }}},
    {"serversTransport.forwardingTimeouts.idleConnTimeout",
     "Longest time an idle backend connection is kept.",
     Field<Duration>{[](StaticConfiguration& c, const Names&) -> Duration& {
       return c.servers_transport.forwarding_timeouts.idle_conn_timeout; }}},

    {"providers.providersThrottleDuration",
     "Wait this long after a provider's change before applying the next one (Traefik: 2s).",
     Field<Duration>{[](StaticConfiguration& c, const Names&) -> Duration& {
       return c.providers.providers_throttle_duration; }}},
    {"providers.docker", "Enable the Docker provider.",
     Section{[](StaticConfiguration& c, const Names&, bool enabled) {
       toggle(c.providers.docker, enabled); }}},
    {"providers.docker.endpoint", "Docker daemon: unix://, tcp://, http:// or https:// URL.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return docker(c).endpoint; }}},
    {"providers.docker.exposedByDefault", "Route containers without traefik.enable=true too.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return docker(c).exposed_by_default; }}},
    {"providers.docker.network", "Default network to reach containers on.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return docker(c).network; }}},
    {"providers.docker.defaultRule", "Rule of routers that set none (a Go template).",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return docker(c).default_rule; }}},
    {"providers.docker.constraints", "Expression on labels that containers must match to be routed.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return docker(c).constraints; }}},
    {"providers.docker.watch", "Follow Docker events.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& { return docker(c).watch; }}},
    {"providers.docker.allowEmptyServices", "Keep services whose containers are all unhealthy (503, not 404).",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return docker(c).allow_empty_services; }}},
    {"providers.docker.useBindPortIP", "Use the host IP and port a container's port is bound to.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return docker(c).use_bind_port_ip; }}},
    {"providers.docker.httpClientTimeout", "Timeout of Docker API calls; 0 means none.",
     Field<Duration>{[](StaticConfiguration& c, const Names&) -> Duration& {
       return docker(c).http_client_timeout; }}},
    {"providers.docker.tls", "Use TLS towards the Docker daemon.",
     Section{[](StaticConfiguration& c, const Names&, bool enabled) {
       toggle(docker(c).tls, enabled); }}},
    {"providers.docker.tls.ca", "CA certificate file for the Docker daemon.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return docker_tls(c).ca; }}},
    {"providers.docker.tls.cert", "Client certificate file.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return docker_tls(c).cert; }}},
    {"providers.docker.tls.key", "Client key file.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return docker_tls(c).key; }}},
    {"providers.docker.tls.insecureSkipVerify", "Do not verify the daemon's certificate.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return docker_tls(c).insecure_skip_verify; }}},
    {"providers.file", "Enable the file provider (accepted; not run by berth yet).",
     Section{[](StaticConfiguration& c, const Names&, bool enabled) {
       toggle(c.providers.file, enabled); }}},
    {"providers.file.filename", "Dynamic configuration file.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return on(c.providers.file).filename; }}},
    {"providers.file.directory", "Directory of dynamic configuration files.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return on(c.providers.file).directory; }}},
    {"providers.file.watch", "Reload on file changes.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return on(c.providers.file).watch; }}},

    {"api", "Enable the API and dashboard.",
     Section{[](StaticConfiguration& c, const Names&, bool enabled) { toggle(c.api, enabled); }}},
    {"api.insecure", "Serve the API on the entry point `traefik` (created on :8080 if absent).",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& { return on(c.api).insecure; }}},
    {"api.dashboard", "Serve the dashboard.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& { return on(c.api).dashboard; }}},
    {"api.basePath", "Path prefix of the API and dashboard.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return on(c.api).base_path; }}},
    {"api.debug", "Serve the /debug endpoints.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& { return on(c.api).debug; }}},

    {"ping", "Enable /ping.",
     Section{[](StaticConfiguration& c, const Names&, bool enabled) { toggle(c.ping, enabled); }}},
    {"ping.entryPoint", "Entry point serving /ping.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return on(c.ping).entry_point; }}},
    {"ping.terminatingStatusCode", "Status of /ping while shutting down.",
     Field<std::int64_t>{[](StaticConfiguration& c, const Names&) -> std::int64_t& {
       return on(c.ping).terminating_status_code; }}},

    {"metrics.prometheus", "Enable Prometheus metrics on /metrics.",
     Section{[](StaticConfiguration& c, const Names&, bool enabled) {
       toggle(c.metrics.prometheus, enabled); }}},
    {"metrics.prometheus.entryPoint", "Entry point serving /metrics.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return prometheus(c).entry_point; }}},
    {"metrics.prometheus.addEntryPointsLabels", "Label metrics with entry points.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return prometheus(c).add_entry_points_labels; }}},
    {"metrics.prometheus.addRoutersLabels", "Label metrics with routers.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return prometheus(c).add_routers_labels; }}},
    {"metrics.prometheus.addServicesLabels", "Label metrics with services.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return prometheus(c).add_services_labels; }}},

    {"accessLog", "Enable the access log.",
     Section{[](StaticConfiguration& c, const Names&, bool enabled) {
       toggle(c.access_log, enabled); }}},
    {"accessLog.filePath", "Access log file; standard output when empty.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return on(c.access_log).file_path; }}},
    {"accessLog.format", "Access log format.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return on(c.access_log).format; }}, log_formats},
    {"accessLog.bufferingSize", "Lines kept in memory before writing.",
     Field<std::int64_t>{[](StaticConfiguration& c, const Names&) -> std::int64_t& {
       return on(c.access_log).buffering_size; }}},
    {"accessLog.filters.statusCodes",
     "Keep lines whose status is one of these codes or ranges (200,500-599).",
     Field<std::vector<std::string>>{[](StaticConfiguration& c, const Names&)
                                         -> std::vector<std::string>& {
       return on(c.access_log).filters.status_codes; }}},
    {"accessLog.filters.retryAttempts", "Keep lines of requests that were retried.",
     Field<bool>{[](StaticConfiguration& c, const Names&) -> bool& {
       return on(c.access_log).filters.retry_attempts; }}},
    {"accessLog.filters.minDuration", "Keep lines of requests that took longer than this.",
     Field<Duration>{[](StaticConfiguration& c, const Names&) -> Duration& {
       return on(c.access_log).filters.min_duration; }}},
    {"accessLog.fields.defaultMode", "Mode of the fields not named in accessLog.fields.names.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return on(c.access_log).fields.default_mode; }}, field_modes},
    {"accessLog.fields.names.*", "Mode of one field (ClientUsername, RequestPath...).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return on(c.access_log).fields.names[n.at(0)]; }}, field_modes},
    {"accessLog.fields.headers.defaultMode",
     "Mode of the headers not named in accessLog.fields.headers.names.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return on(c.access_log).fields.headers.default_mode; }}, header_modes},
    {"accessLog.fields.headers.names.*", "Mode of one request or response header (User-Agent...).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return on(c.access_log).fields.headers.names[n.at(0)]; }}, header_modes},

    {"certificatesResolvers.*.acme", "Accepted for compatibility; berth obtains no ACME certificates.",
     Section{[](StaticConfiguration& c, const Names& n, bool enabled) {
       toggle(c.certificates_resolvers[n.at(0)].acme, enabled); }}},
    {"certificatesResolvers.*.acme.email", "ACME account email (not used by berth).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return acme(c, n).email; }}},
    {"certificatesResolvers.*.acme.storage", "ACME storage file (not used by berth).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return acme(c, n).storage; }}},
    {"certificatesResolvers.*.acme.caServer", "ACME directory URL (not used by berth).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return acme(c, n).ca_server; }}},
    {"certificatesResolvers.*.acme.keyType", "ACME key type (not used by berth).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return acme(c, n).key_type; }}},
    {"certificatesResolvers.*.acme.preferredChain", "ACME preferred chain (not used by berth).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return acme(c, n).preferred_chain; }}},
    {"certificatesResolvers.*.acme.certificatesDuration", "Certificate lifetime in hours (not used by berth).",
     Field<std::int64_t>{[](StaticConfiguration& c, const Names& n) -> std::int64_t& {
       return acme(c, n).certificates_duration; }}},
    {"certificatesResolvers.*.acme.tlsChallenge", "TLS-ALPN-01 challenge (not used by berth).",
     Section{[](StaticConfiguration& c, const Names& n, bool enabled) {
       acme(c, n).tls_challenge = enabled; }}},
    {"certificatesResolvers.*.acme.httpChallenge", "HTTP-01 challenge (not used by berth).",
     Section{[](StaticConfiguration& c, const Names& n, bool enabled) {
       toggle(acme(c, n).http_challenge_entry_point, enabled); }}},
    {"certificatesResolvers.*.acme.httpChallenge.entryPoint", "HTTP-01 challenge entry point (not used by berth).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return on(acme(c, n).http_challenge_entry_point); }}},
    {"certificatesResolvers.*.acme.dnsChallenge.provider", "DNS-01 challenge provider (not used by berth).",
     Field<std::string>{[](StaticConfiguration& c, const Names& n) -> std::string& {
       return acme(c, n).dns_challenge_provider; }}},
    {"certificatesResolvers.*.acme.dnsChallenge.resolvers", "DNS resolvers for DNS-01 (not used by berth).",
     Field<std::vector<std::string>>{[](StaticConfiguration& c, const Names& n)
         -> std::vector<std::string>& { return acme(c, n).dns_challenge_resolvers; }}},

    {"log.level", "Log level.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return c.log.level; }}, log_levels},
    {"log.format", "Log format.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return c.log.format; }}, log_formats},
    {"log.filePath", "Log file; standard error when empty.",
     Field<std::string>{[](StaticConfiguration& c, const Names&) -> std::string& {
       return c.log.file_path; }}},

    {"workers", "berth only: data-plane threads; 0 means one per CPU core.",
     Field<std::int64_t>{[](StaticConfiguration& c, const Names&) -> std::int64_t& {
       return c.workers; }}},
  };
  return table;
}
// clang-format on

std::string lower(std::string_view text) {
  std::string out{text};
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::string upper(std::string_view text) {
  std::string out{text};
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    out.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

bool is_switch(const Flag& flag) {
  return std::holds_alternative<Field<bool>>(flag.target) ||
         std::holds_alternative<Section>(flag.target);
}

std::string_view type_name(const Flag& flag) {
  constexpr std::array<std::string_view, 6> names{"string",   "bool", "int",
                                                  "duration", "list", "section"};
  return names.at(flag.target.index());
}

// Matches path segments against a flag's pattern. Each `*` takes one segment, or, when
// `joined` is set (environment variables, where `_` separates segments), one or more segments
// joined back with `_`. The captured names are appended to `names`.
bool match(std::span<const std::string> pattern, std::span<const std::string> segments, bool joined,
           Names& names) {
  if (pattern.empty()) return segments.empty();
  if (segments.empty()) return false;
  if (segments.front().empty()) return false;
  if (pattern.front() != "*") {
    return lower(pattern.front()) == lower(segments.front()) &&
           match(pattern.subspan(1), segments.subspan(1), joined, names);
  }
  const std::size_t most = joined ? segments.size() : 1;
  for (std::size_t take = 1; take <= most; ++take) {
    std::string name = segments.front();
    for (std::size_t i = 1; i < take; ++i) name += "_" + segments[i];
    names.push_back(std::move(name));
    if (match(pattern.subspan(1), segments.subspan(take), joined, names)) return true;
    names.pop_back();
  }
  return false;
}

struct Match {
  const Flag* flag = nullptr;
  Names names;
};

Match find_flag(std::span<const std::string> segments, bool joined) {
  for (const Flag& flag : flag_table()) {
    Names names;
    const auto pattern = split(flag.path, '.');
    if (match(pattern, segments, joined, names)) return {&flag, std::move(names)};
  }
  return {};
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The known flag path nearest to `segments`, with `*` filled from the user's segments, if close.
std::optional<std::string> nearest_flag(std::span<const std::string> segments) {
  std::string wanted;
  for (const auto& segment : segments) wanted += (wanted.empty() ? "" : ".") + lower(segment);
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, wanted.size() / 5) + 1;
  for (const Flag& flag : flag_table()) {
    const auto pattern = split(flag.path, '.');
    std::string candidate;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      const bool fill = pattern[i] == "*" && i < segments.size();
      candidate += (i == 0 ? "" : ".") + (fill ? segments[i] : pattern[i]);
    }
    const std::size_t distance = edit_distance(wanted, lower(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

bool parse_bool(std::string_view text, bool& out) {
  const std::string value = lower(text);
  if (value == "1" || value == "t" || value == "true") {
    out = true;
    return true;
  }
  if (value == "0" || value == "f" || value == "false") {
    out = false;
    return true;
  }
  return false;
}

// Sets one flag from its text value. `source` names it in errors ("flag --log.level").
void apply(const Flag& flag, const Names& names, std::string_view value, StaticConfiguration& c,
           const std::string& source) {
  const auto invalid = [&](std::string_view expected) {
    return StaticConfigError{"invalid value \"" + std::string{value} + "\" for " + source +
                             ": expected " + std::string{expected}};
  };
  std::visit(
      [&](auto target) {
        using T = decltype(target);
        if constexpr (std::is_same_v<T, Section>) {
          bool enabled = false;
          if (!parse_bool(value, enabled)) throw invalid("true or false");
          target(c, names, enabled);
        } else if constexpr (std::is_same_v<T, Field<bool>>) {
          if (!parse_bool(value, target(c, names))) throw invalid("true or false");
        } else if constexpr (std::is_same_v<T, Field<std::int64_t>>) {
          std::int64_t number = 0;
          const char* end = value.data() + value.size();
          const auto [ptr, ec] = std::from_chars(value.data(), end, number);
          if (value.empty() || ec != std::errc{} || ptr != end) throw invalid("an integer");
          target(c, names) = number;
        } else if constexpr (std::is_same_v<T, Field<Duration>>) {
          const auto duration = parse_duration(value);
          if (!duration) throw invalid("a duration such as 10s, 1m30s or 500ms, or seconds");
          target(c, names) = *duration;
        } else if constexpr (std::is_same_v<T, Field<std::vector<std::string>>>) {
          // Repeated flags add to the list, as paerser joins them with commas.
          auto& list = target(c, names);
          for (auto& item : split(value, ',')) {
            if (!item.empty()) list.push_back(std::move(item));
          }
        } else {
          if (flag.choices.empty()) {
            target(c, names) = std::string{value};
            return;
          }
          const auto choice =
              std::find_if(flag.choices.begin(), flag.choices.end(),
                           [&](std::string_view known) { return lower(known) == lower(value); });
          if (choice == flag.choices.end()) {
            std::string expected = "one of";
            for (const auto known : flag.choices) expected += " " + std::string{known};
            throw invalid(expected);
          }
          target(c, names) = std::string{*choice};
        }
      },
      flag.target);
}

std::string format_default(const Flag& flag) {
  StaticConfiguration defaults;
  const Names names{"name"};
  return std::visit(
      [&](auto target) -> std::string {
        using T = decltype(target);
        if constexpr (std::is_same_v<T, Section>) {
          return "false";
        } else if constexpr (std::is_same_v<T, Field<bool>>) {
          return target(defaults, names) ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Field<std::int64_t>>) {
          return std::to_string(target(defaults, names));
        } else if constexpr (std::is_same_v<T, Field<Duration>>) {
          return format_duration(target(defaults, names));
        } else if constexpr (std::is_same_v<T, Field<std::vector<std::string>>>) {
          std::string out;
          for (const auto& item : target(defaults, names)) out += (out.empty() ? "" : ",") + item;
          return out;
        } else {
          return target(defaults, names);
        }
      },
      flag.target);
}

std::string display_path(std::string_view path) {
  std::string out;
  for (const auto& segment : split(path, '.')) {
    out += (out.empty() ? "" : ".") + (segment == "*" ? std::string{"<name>"} : segment);
  }
  return out;
}

}  // namespace

std::vector<FlagInfo> static_flags() {
  std::vector<FlagInfo> out;
  for (const Flag& flag : flag_table()) {
    std::string description{flag.description};
    if (!flag.choices.empty()) {
      description += " One of:";
      for (const auto choice : flag.choices) description += " " + std::string{choice};
      description += ".";
    }
    out.push_back({display_path(flag.path), std::string{type_name(flag)}, format_default(flag),
                   std::move(description)});
  }
  return out;
}

std::string static_flags_help() {
  std::string out;
  std::string group;
  for (const FlagInfo& flag : static_flags()) {
    const std::string first = flag.path.substr(0, flag.path.find('.'));
    if (first != group) {
      group = first;
      out += "\n" + group + ":\n";
    }
    out += "  --" + flag.path;
    if (flag.type == "section") {
      out += "  (section: a bare flag enables it)\n";
    } else {
      out += "=<" + flag.type + ">";
      if (!flag.default_value.empty()) out += "  (default: " + flag.default_value + ")";
      out += "\n";
    }
    out += "      " + flag.description + "\n";
  }
  return out;
}

void apply_flags(StaticConfiguration& configuration, const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      throw StaticConfigError{"unexpected argument \"" + arg + "\" (flags look like --name=value)"};
    }
    std::string_view name{arg};
    name.remove_prefix(arg[1] == '-' ? 2 : 1);
    if (name.empty() || name.front() == '-' || name.front() == '=') {
      throw StaticConfigError{"bad flag syntax: " + arg};
    }
    std::optional<std::string_view> value;
    if (const auto equals = name.find('='); equals != std::string_view::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    const auto segments = split(name, '.');
    const std::string source = "flag --" + std::string{name};
    const Match found = find_flag(segments, false);
    if (found.flag == nullptr) {
      std::string message = "unknown flag --" + std::string{name};
      if (const auto nearest = nearest_flag(segments)) {
        message += " (did you mean --" + *nearest + "?)";
      }
      throw StaticConfigError{message};
    }
    if (!value) {
      // As in paerser: a bare boolean or section flag means true; others take the next argument.
      if (is_switch(*found.flag)) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw StaticConfigError{source + " needs a value (" + std::string{type_name(*found.flag)} +
                                ")"};
      }
    }
    apply(*found.flag, found.names, *value, configuration, source);
  }
}

void apply_environment(StaticConfiguration& configuration,
                       const std::vector<std::string>& environment) {
  // Sorted, so that the result does not depend on the environment's order and a section
  // (TRAEFIK_API) is applied before its fields (TRAEFIK_API_INSECURE).
  std::vector<std::string> sorted = environment;
  std::sort(sorted.begin(), sorted.end());
  // TRAEFIK_ first, so that BERTH_ wins where both set the same thing.
  for (const std::string_view prefix : {"TRAEFIK_", "BERTH_"}) {
    for (const std::string& entry : sorted) {
      const auto equals = entry.find('=');
      if (equals == std::string::npos) continue;
      const std::string_view variable = std::string_view{entry}.substr(0, equals);
      if (variable.size() <= prefix.size() || upper(variable.substr(0, prefix.size())) != prefix) {
        continue;
      }
      // Traefik lower-cases the whole path, names included.
      const auto segments = split(lower(variable.substr(prefix.size())), '_');
      const std::string source = "environment variable " + std::string{variable};
      const Match found = find_flag(segments, true);
      if (found.flag == nullptr) {
        std::string message = "unknown " + source;
        if (const auto nearest = nearest_flag(segments)) {
          std::string suggestion = upper(*nearest);
          std::replace(suggestion.begin(), suggestion.end(), '.', '_');
          message += " (did you mean " + std::string{prefix} + suggestion + "?)";
        }
        throw StaticConfigError{message};
      }
      apply(*found.flag, found.names, std::string_view{entry}.substr(equals + 1), configuration,
            source);
    }
  }
}

namespace {

/// What the `*` of a flag's pattern stands for in `c`: one binding per name, or one empty binding
/// for a flag without `*`.
std::vector<Names> bindings(std::span<const std::string> pattern, const StaticConfiguration& c) {
  std::vector<Names> out;
  const auto add_keys = [&out](const auto& map) {
    for (const auto& entry : map) out.push_back({entry.first});
  };
  if (std::find(pattern.begin(), pattern.end(), "*") == pattern.end()) {
    out.emplace_back();
  } else if (pattern.front() == "certificatesResolvers") {
    add_keys(c.certificates_resolvers);
  } else if (pattern.front() == "accessLog") {
    if (!c.access_log) return out;
    if (pattern[2] == "headers") {
      add_keys(c.access_log->fields.headers.names);
    } else {
      add_keys(c.access_log->fields.names);
    }
  } else {
    add_keys(c.entry_points);
  }
  return out;
}

}  // namespace

nlohmann::json to_json(const StaticConfiguration& configuration) {
  nlohmann::json out = nlohmann::json::object();
  for (const Flag& flag : flag_table()) {
    const auto pattern = split(flag.path, '.');
    for (const Names& names : bindings(pattern, configuration)) {
      // A flag whose section is off would create it: setting it on a copy tells.
      StaticConfiguration copy = configuration;
      nlohmann::json value = std::visit(
          [&](auto target) -> nlohmann::json {
            using T = decltype(target);
            if constexpr (std::is_same_v<T, Section>) {
              target(copy, names, true);
              return nlohmann::json::object();
            } else if constexpr (std::is_same_v<T, Field<Duration>>) {
              return format_duration(target(copy, names));
            } else {
              return target(copy, names);
            }
          },
          flag.target);
      if (!(copy == configuration)) continue;
      nlohmann::json* node = &out;
      for (std::size_t i = 0; i < pattern.size(); ++i) {
        const std::string& key = pattern[i] == "*" ? names.at(0) : pattern[i];
        nlohmann::json& child = (*node)[key];
        if (i + 1 == pattern.size()) {
          // A section's own entry must not overwrite fields written before it.
          if (!(value.is_object() && child.is_object())) child = std::move(value);
        } else {
          node = &child;
        }
      }
    }
  }
  return out;
}

bool is_log_level(std::string_view level) {
  return std::find(log_levels.begin(), log_levels.end(), level) != log_levels.end();
}

bool is_format(std::string_view format) {
  return std::find(log_formats.begin(), log_formats.end(), format) != log_formats.end();
}

bool is_field_mode(std::string_view mode) {
  return std::find(field_modes.begin(), field_modes.end(), mode) != field_modes.end();
}

bool is_header_mode(std::string_view mode) {
  return std::find(header_modes.begin(), header_modes.end(), mode) != header_modes.end();
}

}  // namespace berth::config
