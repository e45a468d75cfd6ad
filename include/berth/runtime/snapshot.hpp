#pragma once
// An immutable, fully resolved view of the dynamic configuration for the data plane: compiled
// routers indexed by host per entry point, services as balancer trees, middleware chains by name.
// Built on the control plane, shared read-only by every worker as std::shared_ptr<const Snapshot>.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "berth/config/diagnostic.hpp"
#include "berth/config/dynamic.hpp"
#include "berth/rules/path_index.hpp"
#include "berth/rules/rule.hpp"
#include "berth/runtime/health.hpp"
#include "berth/runtime/sticky.hpp"

namespace berth::runtime {

/// A router's compiled middlewares, opaque here: the middleware component implements it and the
/// proxy runs it, so runtime stays free of both.
struct MiddlewareChain {
  virtual ~MiddlewareChain() = default;
};

struct ChainResult {
  std::shared_ptr<const MiddlewareChain> chain;  ///< null on errors or when nothing is left to run
  std::vector<std::string> errors;               ///< each names the middleware and the cause
};

/// Compiles the middlewares a router names (qualified, in order) from the configuration's
/// middlewares (qualified keys).
using ChainFactory =
    std::function<ChainResult(std::span<const std::string> names, std::string_view provider,
                              const std::map<std::string, config::Middleware>& middlewares)>;

struct BuildOptions {
  /// Every entry point the proxy listens on; a router naming another one is disabled.
  std::vector<std::string> entry_points;
  /// Entry points of routers that name none (Traefik: all except `traefik`, or the asDefault ones).
  std::vector<std::string> default_entry_points;
  /// Entry points with http.tls: every router on them is served over TLS only (default options).
  std::vector<std::string> tls_entry_points;
  /// Shared health state; when null, every server of this snapshot gets a fresh, up state.
  HealthRegistry* health = nullptr;
  /// Compiles each router's middlewares; a router whose chain fails is disabled. Unset: routes
  /// carry no chain (middleware names are still checked).
  ChainFactory chains;
};

/// One backend of a load balancer.
struct ServerTarget {
  std::string url;
  std::string host;  ///< without brackets for IPv6
  std::uint16_t port = 80;
  std::string authority;  ///< host[:port] as written in the URL, for Host when passHostHeader=false
  std::string pool_key;   ///< "host:port", the upstream connection pool key
  std::string path_prefix;   ///< the URL's path when it has one other than "/"
  std::string sticky_value;  ///< the cookie value naming it; empty unless its service is sticky
  std::uint32_t weight = 1;
  bool tls = false;  ///< an https:// URL
  std::shared_ptr<ServerHealth> health;
  bool up() const noexcept { return health->available(); }
};

struct WeightedChild {
  std::size_t service = 0;   ///< index into Snapshot::services
  std::string name;          ///< qualified
  std::string sticky_value;  ///< empty unless the weighted service is sticky
  std::uint32_t weight = 1;
};

struct ServiceNode {
  enum class Kind { load_balancer, weighted };
  std::string name;  ///< qualified
  Kind kind = Kind::load_balancer;
  std::vector<ServerTarget> servers;    ///< load_balancer
  std::vector<WeightedChild> children;  ///< weighted
  std::optional<StickyCookie> sticky;
  bool pass_host_header = true;
  /// load_balancer with passiveHealthCheck: failed requests take its servers out for a while.
  std::optional<PassivePolicy> passive;
};

struct Route {
  std::string name;  ///< qualified
  rules::Rule rule;
  std::int64_t priority = 0;
  std::size_t service = 0;               ///< index into Snapshot::services
  std::vector<std::string> middlewares;  ///< qualified names, resolved, in order
  /// The compiled middlewares; null when the router has none (or no factory was given).
  std::shared_ptr<const MiddlewareChain> chain;
  bool tls = false;         ///< matches only requests that came over TLS
  std::string tls_options;  ///< the tls.options name; "default" when the router names none
};

/// The routers of one entry point with an exact-host index.
class RouteTable {
 public:
  /// Routes must already be compiled; sorts them (priority desc, then name) and builds the index.
  explicit RouteTable(std::vector<Route> routes);
  RouteTable() = default;

  /// The best-priority route whose rule matches, or null.
  const Route* match(const rules::RequestView& request) const noexcept;

  const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::vector<Route> routes_;
  /// Every route is in one of three lists of positions: by a host its rule needs, else by a path
  /// prefix it needs, else in the fallback list that every request scans.
  std::unordered_map<std::string, std::vector<std::uint32_t>, Hash, std::equal_to<>> by_host_;
  rules::PathPrefixIndex by_path_prefix_;
  std::vector<std::uint32_t> fallback_;
};

struct Snapshot {
  std::vector<ServiceNode> services;
  std::map<std::string, std::size_t, std::less<>> service_index;
  std::map<std::string, RouteTable, std::less<>> entry_points;      ///< routers without tls
  std::map<std::string, RouteTable, std::less<>> tls_entry_points;  ///< routers with tls
  /// Per entry point: the tls.options name of each host named by TLS routers' Host rules
  /// ("default" where routers of one host disagree, as Traefik does).
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> tls_options;
  /// Middleware names known to the configuration (qualified); their behaviour comes later.
  std::vector<std::string> middlewares;

  /// The routes of an entry point, or null when it has none.
  const RouteTable* routes(std::string_view entry_point) const noexcept;
  /// The TLS routes of an entry point, or null when it has none.
  const RouteTable* tls_routes(std::string_view entry_point) const noexcept;
  /// The tls.options name for a handshake with this (lower-cased) SNI; "default" when unknown.
  std::string_view tls_options_for(std::string_view entry_point,
                                   std::string_view server_name) const noexcept;
  /// A service by qualified name, or null.
  const ServiceNode* service(std::string_view name) const noexcept;
};

struct BuildResult {
  std::shared_ptr<const Snapshot> snapshot;
  config::Diagnostics errors;  ///< one per disabled router / broken service, naming the cause
};

/// Never throws on bad configuration: a bad router or service is left out and reported.
BuildResult build_snapshot(const config::Configuration& configuration, const BuildOptions& options);

/// Lower-cases a Host header value and strips its port and a trailing dot, into `out` (at most
/// out.size() bytes); returns the normalised view, empty when it does not fit.
std::string_view normalize_host(std::string_view host, std::span<char> out) noexcept;

}  // namespace berth::runtime
