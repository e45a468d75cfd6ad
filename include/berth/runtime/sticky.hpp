#pragma once
// Sticky-session cookies with Traefik's semantics (pkg/server/cookie, loadbalancer/sticky.go): the
// value depends only on the server URL, so several instances agree and stickiness survives reloads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::runtime {

struct StickyCookie {
  std::string name;
  bool secure = false;
  bool http_only = false;
  std::string same_site;  ///< "none", "lax", "strict" (any case); anything else omits the attribute
  std::int64_t max_age = 0;
  std::string path = "/";
  std::string domain;
};

/// "_" + the first 5 hex digits of SHA-1("_TRAEFIK_BACKEND_" + qualified service name).
std::string default_cookie_name(std::string_view service_name);

/// A custom name with every character outside RFC 2616 token characters replaced by '_'.
std::string sanitize_cookie_name(std::string_view name);

/// The first 16 hex digits of SHA-256(server URL), Traefik >= v3.3.4.
std::string sticky_value(std::string_view server_url);

/// The value of cookie `name` in a Cookie header ("a=1; b=2"); nullopt when absent.
std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name);

/// The Set-Cookie header value, attributes in the order Go's http.Cookie writes them.
std::string format_set_cookie(const StickyCookie& cookie, std::string_view value);

}  // namespace berth::runtime
