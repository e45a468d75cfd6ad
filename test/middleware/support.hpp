#pragma once
// Builds one-middleware (or several) chains and runs requests through them, without sockets.

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "berth/middleware/chain.hpp"

namespace berth::middleware::test {

/// A clock tests move by hand.
struct ManualClock {
  TimePoint now = TimePoint{} + std::chrono::hours(1);
  Clock clock() {
    return [this] { return now; };
  }
};

using Definitions = std::map<std::string, config::Middleware>;

inline std::shared_ptr<const Chain> build(const Definitions& definitions,
                                          std::vector<std::string> names,
                                          const Environment& environment = {}) {
  auto result = build_chain(names, "docker", definitions, environment);
  INFO((result.errors.empty() ? std::string() : result.errors.front().message));
  REQUIRE(result.errors.empty());
  REQUIRE(result.chain);
  return result.chain;
}

/// The error `build_chain` reports for one middleware `m@docker`, or "" when it builds.
inline std::string build_error(config::MiddlewareKind kind) {
  Definitions definitions{{"m@docker", config::Middleware{std::move(kind)}}};
  const std::vector<std::string> names{"m"};
  auto result = build_chain(names, "docker", definitions, {});
  if (result.errors.empty()) return "";
  return result.errors.front().message;
}

inline std::shared_ptr<const Chain> single(config::MiddlewareKind kind,
                                           const Environment& environment = {}) {
  return build({{"m@docker", config::Middleware{std::move(kind)}}}, {"m"}, environment);
}

inline RequestHeader request(std::string target, std::string host = "example.com",
                             http::verb method = http::verb::get) {
  RequestHeader r;
  r.version(11);
  r.method(method);
  r.target(target);
  r.set(http::field::host, host);
  return r;
}

/// One request through the chain from a peer address.
struct Exchange {
  explicit Exchange(RequestHeader r) : request(std::move(r)) {}
  RequestHeader request;
  RequestState state;
  std::string client_ip = "192.0.2.10";
  bool tls = false;

  Decision run(const Chain& chain) {
    RequestContext context{request, client_ip, tls, state};
    return chain.on_request(context);
  }
};

inline const Respond& responded(const Decision& decision) {
  REQUIRE(std::holds_alternative<Respond>(decision));
  return std::get<Respond>(decision);
}

/// For a decision just returned: the answer is moved out, so it outlives the temporary.
inline Respond responded(Decision&& decision) {
  REQUIRE(std::holds_alternative<Respond>(decision));
  return std::move(std::get<Respond>(decision));
}

inline bool proceeds(const Decision& decision) {
  return std::holds_alternative<Proceed>(decision);
}

inline std::string field(const Fields& fields, std::string_view name) {
  return std::string(fields[name]);
}

}  // namespace berth::middleware::test
