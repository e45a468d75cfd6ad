#pragma once
// Where the Docker daemon is: unix:// socket, tcp:// address, optionally with TLS. Pure parsing of
// --providers.docker.endpoint and the DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH variables.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace berth::docker {

struct TlsOptions {
  std::string ca;    ///< CA bundle (PEM file); empty: the system's
  std::string cert;  ///< client certificate (PEM file)
  std::string key;   ///< client key (PEM file)
  bool insecure_skip_verify = false;
  friend bool operator==(const TlsOptions&, const TlsOptions&) = default;
};

struct Endpoint {
  enum class Kind { unix_socket, tcp };
  Kind kind = Kind::unix_socket;
  std::string socket_path = "/var/run/docker.sock";  ///< for unix_socket
  std::string host;                                  ///< for tcp
  std::uint16_t port = 0;                            ///< for tcp
  std::optional<TlsOptions> tls;                     ///< for tcp: https when set
  friend bool operator==(const Endpoint&, const Endpoint&) = default;

  /// The endpoint as the user would write it: unix:///path, tcp://host:port (https://... with TLS).
  std::string to_string() const;
  /// The Host header of requests: "localhost" for a socket, else host:port.
  std::string host_header() const;
};

struct EndpointError {
  std::string message;
};

inline constexpr std::string_view default_endpoint = "unix:///var/run/docker.sock";

/// Parses "unix:///path", "tcp://host[:port]", "http(s)://host[:port]" or a bare "host:port"
/// (tcp). The tcp port defaults to 2376 with TLS, 2375 without.
std::variant<Endpoint, EndpointError> parse_endpoint(std::string_view text,
                                                     std::optional<TlsOptions> tls = {});

/// Reads an environment variable; std::nullopt when unset.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;
/// The process environment (getenv).
std::optional<std::string> process_environment(std::string_view name);

/// The endpoint to use: `configured` (--providers.docker.endpoint) when not empty, else
/// DOCKER_HOST, else the default socket. TLS: `tls` when given (explicit options), else from
/// DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) when it or DOCKER_TLS_VERIFY is set; verification
/// is skipped only when DOCKER_TLS_VERIFY is empty/unset while DOCKER_CERT_PATH is set (the Go
/// SDK's rule).
std::variant<Endpoint, EndpointError> resolve_endpoint(std::string_view configured,
                                                       std::optional<TlsOptions> tls,
                                                       const Environment& environment);

}  // namespace berth::docker
