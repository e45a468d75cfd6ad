#pragma once
// The static configuration: what berth reads once at start-up (entry points, providers, API, logs),
// with Traefik's names and defaults (pkg/config/static), from Traefik-style flags or environment
// variables. Errors here are exceptions of one type, StaticConfigError: they only happen at
// start-up.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/config/duration.hpp"

namespace berth::config {

struct StaticConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RespondingTimeouts {
  Duration read_timeout = std::chrono::seconds{60};
  Duration write_timeout = std::chrono::seconds{0};
  Duration idle_timeout = std::chrono::seconds{180};
  friend bool operator==(const RespondingTimeouts&, const RespondingTimeouts&) = default;
};

struct Lifecycle {
  Duration request_accept_grace_timeout = std::chrono::seconds{0};
  Duration grace_timeout = std::chrono::seconds{10};
  friend bool operator==(const Lifecycle&, const Lifecycle&) = default;
};

struct EntryPointTransport {
  RespondingTimeouts responding_timeouts;
  Lifecycle lifecycle;
  friend bool operator==(const EntryPointTransport&, const EntryPointTransport&) = default;
};

struct RedirectEntryPoint {
  std::string to;  ///< an entry point name, or a port such as ":443"
  std::string scheme = "https";
  bool permanent = true;
  std::int64_t priority = std::numeric_limits<std::int64_t>::max() - 1;
  friend bool operator==(const RedirectEntryPoint&, const RedirectEntryPoint&) = default;
};

struct EntryPointHttp {
  std::optional<RedirectEntryPoint> redirection;  ///< http.redirections.entryPoint
  bool tls = false;
  friend bool operator==(const EntryPointHttp&, const EntryPointHttp&) = default;
};

struct ForwardedHeaders {
  bool insecure = false;
  std::vector<std::string> trusted_ips;
  friend bool operator==(const ForwardedHeaders&, const ForwardedHeaders&) = default;
};

struct EntryPoint {
  std::string address;
  bool as_default = false;
  EntryPointTransport transport;
  EntryPointHttp http;
  ForwardedHeaders forwarded_headers;
  friend bool operator==(const EntryPoint&, const EntryPoint&) = default;
};

struct ForwardingTimeouts {
  Duration dial_timeout = std::chrono::seconds{30};
  Duration response_header_timeout = std::chrono::seconds{0};
  Duration idle_conn_timeout = std::chrono::seconds{90};
  friend bool operator==(const ForwardingTimeouts&, const ForwardingTimeouts&) = default;
};

struct ServersTransport {
  bool insecure_skip_verify = false;
  std::int64_t max_idle_conns_per_host = 200;
  ForwardingTimeouts forwarding_timeouts;
  friend bool operator==(const ServersTransport&, const ServersTransport&) = default;
};

struct DockerTls {
  std::string ca;
  std::string cert;
  std::string key;
  bool insecure_skip_verify = false;
  friend bool operator==(const DockerTls&, const DockerTls&) = default;
};

struct DockerProvider {
  std::string endpoint = "unix:///var/run/docker.sock";
  bool exposed_by_default = true;
  std::string network;
  std::string default_rule = "Host(`{{ normalize .Name }}`)";
  std::string constraints;
  bool watch = true;
  bool allow_empty_services = false;
  bool use_bind_port_ip = false;
  Duration http_client_timeout = std::chrono::seconds{0};
  std::optional<DockerTls> tls;
  friend bool operator==(const DockerProvider&, const DockerProvider&) = default;
};

/// Modelled so that Traefik configurations parse; berth does not run a file provider yet.
struct FileProvider {
  std::string filename;
  std::string directory;
  bool watch = true;
  friend bool operator==(const FileProvider&, const FileProvider&) = default;
};

struct Providers {
  /// Traefik's default is 2s; berth coalesces bursts of Docker events much faster on purpose.
  Duration providers_throttle_duration = std::chrono::milliseconds{50};
  std::optional<DockerProvider> docker;
  std::optional<FileProvider> file;
  friend bool operator==(const Providers&, const Providers&) = default;
};

struct Api {
  bool insecure = false;
  bool dashboard = true;
  std::string base_path = "/";
  bool debug = false;
  friend bool operator==(const Api&, const Api&) = default;
};

inline constexpr std::string_view internal_entry_point = "traefik";

struct Ping {
  std::string entry_point{internal_entry_point};
  std::int64_t terminating_status_code = 503;
  friend bool operator==(const Ping&, const Ping&) = default;
};

struct Prometheus {
  std::string entry_point{internal_entry_point};
  bool add_entry_points_labels = true;
  bool add_routers_labels = false;
  bool add_services_labels = true;
  friend bool operator==(const Prometheus&, const Prometheus&) = default;
};

struct Metrics {
  std::optional<Prometheus> prometheus;
  friend bool operator==(const Metrics&, const Metrics&) = default;
};

/// Traefik's accessLog.filters: a line is written when any configured filter matches it, and
/// every line when none is configured.
struct AccessLogFilters {
  std::vector<std::string> status_codes;  ///< "200", "500-599"
  bool retry_attempts = false;
  Duration min_duration = std::chrono::seconds{0};  ///< kept when the request took longer
  friend bool operator==(const AccessLogFilters&, const AccessLogFilters&) = default;
};

/// Traefik's accessLog.fields.headers: modes are keep, drop or redact.
struct AccessLogHeaderFields {
  std::string default_mode = "drop";
  std::map<std::string, std::string> names;  ///< header name -> mode
  friend bool operator==(const AccessLogHeaderFields&, const AccessLogHeaderFields&) = default;
};

/// Traefik's accessLog.fields: modes are keep or drop; names are Traefik's field names.
struct AccessLogFields {
  std::string default_mode = "keep";
  std::map<std::string, std::string> names;  ///< field name (ClientUsername) -> mode
  AccessLogHeaderFields headers;
  friend bool operator==(const AccessLogFields&, const AccessLogFields&) = default;
};

struct AccessLog {
  std::string file_path;
  std::string format = "common";  ///< common | json
  std::int64_t buffering_size = 0;
  AccessLogFilters filters;
  AccessLogFields fields;
  friend bool operator==(const AccessLog&, const AccessLog&) = default;
};

/// One entry of accessLog.filters.statusCodes ("404", "500-599"): the inclusive range, or nothing
/// when the text is not one.
std::optional<std::pair<unsigned, unsigned>> parse_status_code_range(std::string_view text);

struct Log {
  std::string level = "ERROR";  ///< TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC (upper-cased)
  std::string format = "common";
  std::string file_path;
  friend bool operator==(const Log&, const Log&) = default;
};

/// Traefik's ACME settings, accepted so that Traefik command lines start: berth obtains no
/// certificates (it warns at start and on every router that names a resolver).
struct Acme {
  std::string email;
  std::string storage = "acme.json";
  std::string ca_server = "https://acme-v02.api.letsencrypt.org/directory";
  std::string key_type = "RSA4096";
  std::string preferred_chain;
  std::int64_t certificates_duration = 2160;  ///< hours
  bool tls_challenge = false;
  std::optional<std::string> http_challenge_entry_point;
  std::string dns_challenge_provider;
  std::vector<std::string> dns_challenge_resolvers;
  friend bool operator==(const Acme&, const Acme&) = default;
};

struct CertificateResolver {
  std::optional<Acme> acme;
  friend bool operator==(const CertificateResolver&, const CertificateResolver&) = default;
};

/// Accepted so that Traefik command lines work unchanged; berth never contacts anyone.
struct Global {
  bool check_new_version = true;
  bool send_anonymous_usage = false;
  friend bool operator==(const Global&, const Global&) = default;
};

struct StaticConfiguration {
  Global global;
  std::map<std::string, EntryPoint> entry_points;
  ServersTransport servers_transport;
  Providers providers;
  std::optional<Api> api;
  std::optional<Ping> ping;
  Metrics metrics;
  std::optional<AccessLog> access_log;
  std::map<std::string, CertificateResolver> certificates_resolvers;
  Log log;
  std::int64_t workers = 0;  ///< berth only: data-plane threads; 0 means one per core
  friend bool operator==(const StaticConfiguration&, const StaticConfiguration&) = default;
};

/// One flag of the table that drives parsing, validation and --help.
struct FlagInfo {
  std::string path;           ///< "entryPoints.<name>.address"
  std::string type;           ///< "string", "bool", "int", "duration", "list", "section"
  std::string default_value;  ///< as it would be written on the command line
  std::string description;
  friend bool operator==(const FlagInfo&, const FlagInfo&) = default;
};

/// Every flag, in the order of --help.
std::vector<FlagInfo> static_flags();

/// The flag part of --help: flags grouped by their first segment, with types and defaults.
std::string static_flags_help();

/// Reads the configuration from command-line arguments (without the program name) or, when there
/// are none, from the environment ("NAME=value" strings; TRAEFIK_* then BERTH_*, so BERTH_ wins).
/// Like Traefik, only one source is used. Applies set_effective_configuration and validate.
/// Throws StaticConfigError naming the flag or variable, the value and what was expected.
StaticConfiguration parse_static_configuration(const std::vector<std::string>& args,
                                               const std::vector<std::string>& environment);

/// Only the flag parsing step of parse_static_configuration: applies `args` onto `configuration`.
void apply_flags(StaticConfiguration& configuration, const std::vector<std::string>& args);

/// Only the environment step: applies TRAEFIK_* and BERTH_* variables onto `configuration`.
void apply_environment(StaticConfiguration& configuration,
                       const std::vector<std::string>& environment);

/// Traefik's SetEffectiveConfiguration: the default entry point `http` on :80 when none is
/// defined, and `traefik` on :8080 when the insecure API, ping or Prometheus use it.
void set_effective_configuration(StaticConfiguration& configuration);

/// Checks addresses ([host]:port), redirection targets, entry points used by ping/metrics, log
/// level and formats, numeric ranges, and the access log's status code ranges, field names and
/// modes. Throws StaticConfigError on the first problem.
void validate(const StaticConfiguration& configuration);

}  // namespace berth::config
