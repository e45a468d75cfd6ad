#pragma once
// The REST API as a pure function of the State: no sockets, no clock, no Asio. api::Server feeds it
// requests; tests call it directly.
//
// Traefik v3's endpoints and shapes (pkg/api): /api/http/{routers,services,middlewares}[/{name}],
// /api/tcp/..., /api/udp/... (always empty here), /api/entrypoints[/{name}], /api/overview,
// /api/rawdata, /api/version; list endpoints page with `page`/`per_page` (X-Next-Page), filter with
// `search`, `status`, `serviceName`, `middlewareName` and sort with `sortBy`/`direction`.
// berth adds /api/providers/docker/containers (every container and why it is or is not routed) and
// /api/diagnostics (every problem found while building the configuration).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "berth/api/state.hpp"

namespace berth::api {

struct Request {
  std::string method;  ///< "GET", "HEAD", ...
  std::string target;  ///< path and query, as received ("/api/http/routers?page=2")
};

struct Response {
  unsigned status = 200;
  std::string content_type;
  std::string body;  ///< the GET body, also for HEAD (the server leaves it out on the wire)
  std::vector<std::pair<std::string, std::string>> headers;  ///< besides Content-Type
};

/// /api/version.
struct VersionInfo {
  std::string version;
  std::string codename;
  std::chrono::system_clock::time_point start_date;
};

/// Answers a request under /api. Paths outside /api get 404; methods other than GET and HEAD on a
/// known path get 405.
Response handle(const State& state, const Request& request, const VersionInfo& version);

/// The /api/overview document (also the first Server-Sent Event a client receives).
nlohmann::json overview(const State& state);

/// Go's time.Time JSON form (RFC 3339 with nanoseconds, trailing zeros dropped), in UTC.
std::string format_time(std::chrono::system_clock::time_point time);

}  // namespace berth::api
