#pragma once
// The interface every compiled middleware implements, and helpers they share (private to the
// component).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "berth/middleware/chain.hpp"

namespace berth::middleware {

/// One compiled middleware: immutable; mutable shared state (if any) sits behind its own lock.
class Middleware {
 public:
  Middleware() = default;
  Middleware(const Middleware&) = delete;
  Middleware& operator=(const Middleware&) = delete;
  virtual ~Middleware() = default;

  /// Returns nullopt to go on with the next middleware, or the decision that stops the chain.
  virtual std::optional<Decision> on_request(RequestContext& context) const = 0;

  /// Continues after this middleware's ForwardAuthCall; nullopt goes on with the next one.
  virtual std::optional<Decision> on_auth_response(RequestContext&,
                                                   const http::response<http::string_body>&) const {
    return std::nullopt;
  }

  virtual void on_response(ResponseContext&) const {}

  /// The retry policy when this is a retry middleware.
  virtual const RetryPolicy* retry_policy() const noexcept { return nullptr; }
};

using MiddlewarePtr = std::shared_ptr<const Middleware>;

/// A compiled middleware or the reason it could not be built.
using Compiled = std::variant<MiddlewarePtr, std::string>;

/// Compiles one non-chain middleware definition named `name` (qualified).
Compiled compile(const std::string& name, const config::Middleware& definition,
                 const Environment& environment);

// Per-family factories (each in its own source file).
Compiled make_add_prefix(const config::AddPrefix& c);
Compiled make_strip_prefix(const config::StripPrefix& c);
Compiled make_strip_prefix_regex(const config::StripPrefixRegex& c);
Compiled make_replace_path(const config::ReplacePath& c);
Compiled make_replace_path_regex(const config::ReplacePathRegex& c);
Compiled make_redirect_scheme(const config::RedirectScheme& c);
Compiled make_redirect_regex(const config::RedirectRegex& c);
Compiled make_headers(const config::Headers& c);
Compiled make_basic_auth(const config::BasicAuth& c);
Compiled make_ip_allow_list(const config::IpAllowList& c);
Compiled make_rate_limit(const std::string& name, const config::Middleware& definition,
                         const config::RateLimit& c, const Environment& environment);
Compiled make_in_flight(const std::string& name, const config::Middleware& definition,
                        const config::InFlightReq& c, const Environment& environment);
Compiled make_retry(const config::Retry& c);
Compiled make_compress(const config::Compress& c);
Compiled make_circuit_breaker(const std::string& name, const config::Middleware& definition,
                              const config::CircuitBreaker& c, const Environment& environment);
Compiled make_buffering(const config::Buffering& c);
Compiled make_forward_auth(const config::ForwardAuth& c);

// ---------------------------------------------------------------------------------------------
// Request target helpers: the target is origin-form ("/p?q") or absolute-form ("http://h/p?q").

struct TargetSplit {
  std::string_view prefix;  ///< "http://h" for absolute-form, else empty
  std::string_view path;
  std::string_view query;  ///< with its leading '?', or empty
};
TargetSplit split_target(std::string_view target);

/// Replaces the path of the request target, keeping the rest.
void set_path(RequestHeader& request, std::string_view path);

/// "/" + path unless it is empty or starts with '/'.
std::string ensure_leading_slash(std::string_view path);

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

std::string_view trim(std::string_view text) noexcept;

/// Go's net.SplitHostPort for a Host header: the host without port and brackets, or the input.
std::string_view host_without_port(std::string_view host) noexcept;

}  // namespace berth::middleware
