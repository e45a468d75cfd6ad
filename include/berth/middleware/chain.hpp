#pragma once
// Traefik's HTTP middlewares (`traefik.http.middlewares.<name>.<type>.<option>`) as a compiled,
// immutable chain per router, driven by the proxy without any I/O here.
//
// How the proxy uses a chain, per request:
//   RequestState state;                         // lives as long as the request
//   RequestContext ctx{request, client_ip, tls, state};
//   Decision d = chain.on_request(ctx);
//     Proceed       → forward `request` (edited in place: target, headers) upstream; honour
//                     `delay` (rate limiting within its allowed delay) before sending.
//     Respond       → do not contact the backend; run on_response on `response` (the middlewares
//                     before the one that answered edit it, as in Traefik), then send it.
//     ForwardAuthCall → send `request` to `url` (its own connection), then call
//                     chain.on_forward_auth_response(ctx, auth_response) for the next Decision.
//     BufferBody    → read the whole request body (413 via too_large_response() past the limit),
//                     then chain.resume(ctx) for the next Decision.
//   Upstream answered (or the proxy made its own 502/504 for a network error / timeout):
//     ResponseContext rctx{response, request, state}; chain.on_response(rctx);
//     if (state.compressor) feed every body chunk through it (see compress.hpp).
//   Retry: chain.retry() is the first retry middleware's policy, or null.
//
// Order: middlewares run on the request in the order the router lists them (a chain middleware is
// expanded in place), and on the response in reverse order, as Traefik's nested handlers do.
//
// Expectations on the proxy: X-Forwarded-* from untrusted clients are removed before on_request
// (Traefik strips them at the entry point), as ipStrategy and forwardAuth read them.
//
// A chain with no middleware costs one branch per request and allocates nothing; middlewares
// allocate only for what they add (a rewritten target, a header value, a response).
//
// Known differences from Traefik: compress produces gzip only (a client accepting gzip gets it even
// where Traefik would pick br or zstd); retry waits grow without Traefik's random jitter; state is
// shared by every router naming the same middleware (Traefik builds one per router);
// forwardAuth.forwardBody and ipStrategy.ipv6Subnet are refused at build time; path middlewares
// edit the raw path (the same as Traefik's decoded path for unreserved characters).
//
// State that must outlive a configuration swap (rate-limit buckets, in-flight counters, circuit
// breakers) lives in a StateRegistry outside the snapshot, keyed by the qualified middleware name
// and its definition: an unchanged definition gets the same state back, a changed one starts
// afresh.

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/config/dynamic.hpp"
#include "berth/middleware/compress.hpp"
#include "berth/middleware/message.hpp"
#include "berth/middleware/retry.hpp"
#include "berth/runtime/snapshot.hpp"

namespace berth::middleware {

namespace http = boost::beast::http;

using TimePoint = std::chrono::steady_clock::time_point;
/// Where middlewares read the time; tests inject a manual clock.
using Clock = std::function<TimePoint()>;

class Middleware;

/// Per-request bookkeeping the proxy keeps until the response is complete (move-only). Apart from
/// `compressor`, its members belong to the chain.
struct RequestState {
  /// Set by on_response when the compress middleware gzips this response body.
  std::optional<GzipCompressor> compressor;

  std::size_t next = 0;      ///< the first middleware not yet run on the request
  std::size_t executed = 0;  ///< how many ran on the request (on_response walks them back)
  TimePoint started{};       ///< when the chain first saw the request (circuit-breaker latency)
  std::chrono::nanoseconds delay{0};            ///< the wait Proceed reports (rate limiting)
  std::vector<std::shared_ptr<void>> releases;  ///< in-flight slots, freed with the state
  std::vector<std::string> response_cookies;    ///< forwardAuth's addAuthCookiesToResponse
};

struct RequestContext {
  RequestHeader& request;      ///< edited in place
  std::string_view client_ip;  ///< the connection's peer address, without port
  bool tls = false;            ///< the client connection is HTTPS
  RequestState& state;
};

struct ResponseContext {
  ResponseHeader& response;      ///< edited in place
  const RequestHeader& request;  ///< the request as forwarded
  RequestState& state;
  bool tls = false;
};

struct Proceed {
  /// Rate limiting accepted the request but asks the proxy to hold it this long first.
  std::chrono::nanoseconds delay{0};
};

struct Respond {
  StringResponse response;
};

struct ForwardAuthCall {
  std::string url;                              ///< the auth server, as configured
  const config::ForwardAuthTls* tls = nullptr;  ///< client TLS settings for it, owned by the chain
  http::request<http::empty_body> request;      ///< method, target, headers to send it
};

/// buffering's retryExpression (`IsNetworkError() && Attempts() < 2`, also `ResponseCode()`), which
/// the proxy evaluates after each attempt of a buffered request.
class RetryExpression {
 public:
  virtual bool should_retry(bool network_error, std::int64_t attempts,
                            unsigned response_code) const = 0;

 protected:
  ~RetryExpression() = default;
};

struct BufferBody {
  std::int64_t max_request_body_bytes = 0;   ///< 0: no limit
  std::int64_t mem_request_body_bytes = 0;   ///< beyond this Traefik spools to disk
  std::int64_t max_response_body_bytes = 0;  ///< 0: no limit; past it answer 500
  std::int64_t mem_response_body_bytes = 0;
  const RetryExpression* retry = nullptr;  ///< owned by the chain; null without retryExpression
};

using Decision = std::variant<Proceed, Respond, ForwardAuthCall, BufferBody>;

/// A complete plain-text response as Traefik's middlewares write them: `Status-Text` body, no
/// caching headers.
StringResponse make_response(http::status status, std::string body, unsigned version = 11);

/// The 413 the proxy sends when a buffered body exceeds `max_request_body_bytes`.
StringResponse too_large_response();

/// A compiled middleware chain for one router. Immutable; shared by all workers. The snapshot holds
/// it as a runtime::MiddlewareChain.
class Chain : public runtime::MiddlewareChain {
 public:
  Chain() = default;
  explicit Chain(std::vector<std::shared_ptr<const Middleware>> middlewares);

  bool empty() const noexcept { return middlewares_.empty(); }
  std::size_t size() const noexcept { return middlewares_.size(); }

  /// Runs the request side from the start. Never throws.
  Decision on_request(RequestContext& context) const;
  /// Continues after a BufferBody decision once the body is read.
  Decision resume(RequestContext& context) const;
  /// Continues after a ForwardAuthCall with the auth server's answer (its body included).
  Decision on_forward_auth_response(RequestContext& context,
                                    const http::response<http::string_body>& auth_response) const;
  /// The forward-auth call failed (connect error, timeout): Traefik answers 500.
  Decision on_forward_auth_error(RequestContext& context) const;

  /// Runs the response side of every middleware that ran on the request, last first.
  void on_response(ResponseContext& context) const;

  /// The first retry middleware's policy, or null when the chain has none.
  const RetryPolicy* retry() const noexcept { return retry_; }

 private:
  Decision run(RequestContext& context) const;
  std::vector<std::shared_ptr<const Middleware>> middlewares_;
  const RetryPolicy* retry_ = nullptr;
};

/// State kept across configuration swaps. Thread-safe; used by the builder on the control plane.
class StateRegistry {
 public:
  /// The state stored for `name` when its definition equals `definition`, else a fresh one from
  /// `make` (replacing the old). States are held weakly: they live as long as some chain uses them.
  template <class State, class Make>
  std::shared_ptr<State> get(const std::string& name, const config::Middleware& definition,
                             Make&& make) {
    std::lock_guard lock(mutex_);
    auto& entry = entries_[name];
    if (entry.definition == definition) {
      if (auto existing = std::static_pointer_cast<State>(entry.state.lock())) return existing;
    }
    std::shared_ptr<State> fresh = make();
    entry.definition = definition;
    entry.state = fresh;
    return fresh;
  }

  /// Forgets entries whose state no chain holds any more.
  void sweep();
  std::size_t size() const;

 private:
  struct Entry {
    config::Middleware definition;
    std::weak_ptr<void> state;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

struct Environment {
  Clock clock = [] { return std::chrono::steady_clock::now(); };
  StateRegistry* registry = nullptr;  ///< null: every build starts with fresh state
};

struct MiddlewareError {
  std::string middleware;  ///< qualified name
  std::string message;
  friend bool operator==(const MiddlewareError&, const MiddlewareError&) = default;
};

struct BuildResult {
  std::shared_ptr<const Chain> chain;  ///< null when any middleware failed
  std::vector<MiddlewareError> errors;
};

/// Compiles the middlewares a router names (qualified `name@provider`, or plain names resolved in
/// `provider`) from `middlewares` (qualified keys). Every missing or broken middleware, including
/// those reached through chains, is reported; the router must then be disabled.
BuildResult build_chain(std::span<const std::string> names, std::string_view provider,
                        const std::map<std::string, config::Middleware>& middlewares,
                        const Environment& environment);

/// A runtime::BuildOptions::chains that compiles with build_chain in `environment` (whose registry,
/// when set, must outlive every snapshot built with it). A chain with no middleware left (an empty
/// chain middleware) yields null: the route then costs nothing.
runtime::ChainFactory chain_factory(Environment environment);

}  // namespace berth::middleware
