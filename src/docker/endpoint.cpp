#include "berth/docker/endpoint.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace berth::docker {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.starts_with(prefix);
}

std::variant<Endpoint, EndpointError> parse_host_port(std::string_view original,
                                                      std::string_view rest,
                                                      std::optional<TlsOptions> tls) {
  // Drop a trailing path ("tcp://host:2375/"), which the CLI tolerates.
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") {
      return EndpointError{
          fmt::format("Docker endpoint {:?}: a tcp address takes no path", original)};
    }
    rest = rest.substr(0, slash);
  }
  Endpoint endpoint;
  endpoint.kind = Endpoint::Kind::tcp;
  endpoint.port = tls ? 2376 : 2375;
  std::string_view host = rest;
  std::string_view port;
  if (starts_with(rest, "[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return EndpointError{fmt::format("Docker endpoint {:?}: unclosed '[' in the host", original)};
    }
    host = rest.substr(0, close + 1);
    const auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return EndpointError{
            fmt::format("Docker endpoint {:?}: unexpected {:?} after the host", original, after)};
      }
      port = after.substr(1);
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) {
    return EndpointError{fmt::format("Docker endpoint {:?}: the host is missing", original)};
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return EndpointError{fmt::format("Docker endpoint {:?}: invalid port {:?}", original, port)};
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  endpoint.host = std::string(host);
  endpoint.tls = std::move(tls);
  return endpoint;
}

}  // namespace

std::string Endpoint::to_string() const {
  if (kind == Kind::unix_socket) return "unix://" + socket_path;
  return fmt::format("{}://{}:{}", tls ? "https" : "tcp", host, port);
}

std::string Endpoint::host_header() const {
  if (kind == Kind::unix_socket) return "localhost";
  return fmt::format("{}:{}", host, port);
}

std::variant<Endpoint, EndpointError> parse_endpoint(std::string_view text,
                                                     std::optional<TlsOptions> tls) {
  if (text.empty()) return EndpointError{"Docker endpoint is empty"};
  if (starts_with(text, "unix://")) {
    const auto path = text.substr(7);
    if (path.empty() || path.front() != '/') {
      return EndpointError{
          fmt::format("Docker endpoint {:?}: a unix socket needs an absolute path", text)};
    }
    Endpoint endpoint;
    endpoint.socket_path = std::string(path);
    return endpoint;
  }
  if (starts_with(text, "tcp://")) return parse_host_port(text, text.substr(6), std::move(tls));
  if (starts_with(text, "http://")) return parse_host_port(text, text.substr(7), std::move(tls));
  if (starts_with(text, "https://")) {
    return parse_host_port(text, text.substr(8), tls ? std::move(tls) : TlsOptions{});
  }
  if (const auto scheme = text.find("://"); scheme != std::string_view::npos) {
    return EndpointError{
        fmt::format("Docker endpoint {:?}: unsupported scheme {:?} (use unix:// or tcp://)", text,
                    text.substr(0, scheme))};
  }
  // A bare host:port is a tcp address, as for the docker CLI.
  return parse_host_port(text, text, std::move(tls));
}

std::optional<std::string> process_environment(std::string_view name) {
  const std::string key(name);
  if (const char* value = std::getenv(key.c_str())) return std::string(value);
  return std::nullopt;
}

std::variant<Endpoint, EndpointError> resolve_endpoint(std::string_view configured,
                                                       std::optional<TlsOptions> tls,
                                                       const Environment& environment) {
  const auto get = [&](std::string_view name) {
    return environment ? environment(name).value_or("") : std::string();
  };
  std::string text(configured);
  if (text.empty()) text = get("DOCKER_HOST");
  if (text.empty()) text = std::string(default_endpoint);

  if (!tls) {
    const std::string verify = get("DOCKER_TLS_VERIFY");
    std::string cert_path = get("DOCKER_CERT_PATH");
    if (!verify.empty() || !cert_path.empty()) {
      if (cert_path.empty()) cert_path = get("HOME") + "/.docker";
      tls = TlsOptions{cert_path + "/ca.pem", cert_path + "/cert.pem", cert_path + "/key.pem",
                       verify.empty()};
    }
  }
  auto parsed = parse_endpoint(text, tls);
  // TLS settings from the environment say nothing about a local socket.
  if (auto* endpoint = std::get_if<Endpoint>(&parsed);
      endpoint && endpoint->kind == Endpoint::Kind::unix_socket) {
    endpoint->tls.reset();
  }
  return parsed;
}

}  // namespace berth::docker
