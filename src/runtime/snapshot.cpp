#include "berth/runtime/snapshot.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>
#include <utility>
#include <variant>

namespace berth::runtime {
namespace {

using config::Diagnostic;
using config::ResourceKind;

// Traefik rejects user priorities above MaxInt-1000, which it keeps for its internal routers.
constexpr std::int64_t max_user_priority = std::numeric_limits<std::int64_t>::max() - 1000;

std::string_view provider_of(std::string_view qualified) {
  const auto at = qualified.rfind('@');
  return at == std::string_view::npos ? std::string_view{} : qualified.substr(at + 1);
}

/// A reference without a provider resolves within the provider of the resource that holds it.
std::string resolve_ref(std::string_view ref, std::string_view provider) {
  std::string out(ref);
  if (ref.find('@') == std::string_view::npos && !provider.empty()) {
    out += '@';
    out += provider;
  }
  return out;
}

struct ParsedUrl {
  std::string host;
  std::string authority;
  std::string path;
  std::uint16_t port = 80;
  bool tls = false;
};

std::variant<ParsedUrl, std::string> parse_server_url(std::string_view url) {
  constexpr std::string_view http = "http://";
  constexpr std::string_view https = "https://";
  ParsedUrl out;
  std::string_view rest;
  if (url.substr(0, http.size()) == http) {
    rest = url.substr(http.size());
  } else if (url.substr(0, https.size()) == https) {
    rest = url.substr(https.size());
    out.tls = true;
    out.port = 443;
  } else {
    const auto colon = url.find("://");
    if (colon == std::string_view::npos) return std::string("it has no scheme");
    return "scheme \"" + std::string(url.substr(0, colon)) +
           "\" is not supported (only http and https)";
  }
  const auto slash = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  if (authority.empty()) return std::string("it has no host");
  out.authority = std::string(authority);
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::string("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return std::string("it has no host");
  out.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return "invalid port \"" + std::string(port) + "\"";
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

std::uint32_t clamp_weight(std::optional<std::int64_t> weight) {
  const std::int64_t w = weight.value_or(1);
  if (w <= 0) return 0;
  return static_cast<std::uint32_t>(
      std::min<std::int64_t>(w, std::numeric_limits<std::uint32_t>::max()));
}

std::optional<StickyCookie> make_sticky(const std::optional<config::Sticky>& sticky,
                                        std::string_view service_name) {
  if (!sticky || !sticky->cookie) return std::nullopt;
  const config::Cookie& c = *sticky->cookie;
  StickyCookie out;
  out.name = c.name.empty() ? default_cookie_name(service_name) : sanitize_cookie_name(c.name);
  out.secure = c.secure;
  out.http_only = c.http_only;
  out.same_site = c.same_site;
  out.max_age = c.max_age;
  out.path = c.path.value_or("/");
  out.domain = c.domain;
  return out;
}

/// Resolves services on demand (weighted services reference others), detecting cycles.
class ServiceBuilder {
 public:
  ServiceBuilder(const config::Configuration& configuration, const BuildOptions& options,
                 Snapshot& snapshot, config::Diagnostics& errors)
      : configuration_(configuration), options_(options), snapshot_(snapshot), errors_(errors) {}

  /// The index of a built service, or the reason it cannot be used.
  std::variant<std::size_t, std::string> resolve(const std::string& name) {
    if (auto it = snapshot_.service_index.find(name); it != snapshot_.service_index.end()) {
      return it->second;
    }
    if (auto it = broken_.find(name); it != broken_.end()) {
      return "the service \"" + name + "\" is invalid: " + it->second;
    }
    auto config_it = configuration_.http.services.find(name);
    if (config_it == configuration_.http.services.end()) {
      return "the service \"" + name + "\" does not exist";
    }
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      std::string path;
      for (const auto& entry : stack_) path += entry + " -> ";
      return "cycle detected: " + path + name;
    }
    stack_.push_back(name);
    auto built = build(name, config_it->second);
    stack_.pop_back();
    if (auto* error = std::get_if<std::string>(&built)) {
      broken_.emplace(name, *error);
      errors_.push_back(Diagnostic{ResourceKind::service, name, {}, *error});
      return "the service \"" + name + "\" is invalid: " + *error;
    }
    auto node = std::get<ServiceNode>(std::move(built));
    const std::size_t index = snapshot_.services.size();
    snapshot_.services.push_back(std::move(node));
    snapshot_.service_index.emplace(name, index);
    return index;
  }

 private:
  std::variant<ServiceNode, std::string> build(const std::string& name,
                                               const config::Service& service) {
    ServiceNode node;
    node.name = name;
    if (const auto* lb = std::get_if<config::LoadBalancer>(&service.kind)) {
      node.kind = ServiceNode::Kind::load_balancer;
      node.pass_host_header = lb->pass_host_header.value_or(true);
      node.sticky = make_sticky(lb->sticky, name);
      // The checker applies healthCheck; a bad value must still show here, on the service.
      if (lb->health_check) {
        auto check = resolve_health_check(*lb->health_check);
        if (auto* error = std::get_if<std::string>(&check)) return *error;
      }
      if (lb->passive_health_check) {
        auto passive = resolve_passive_health_check(*lb->passive_health_check);
        if (auto* error = std::get_if<std::string>(&passive)) return *error;
        node.passive = std::get<PassivePolicy>(passive);
      }
      for (const auto& server : lb->servers) {
        auto parsed = parse_server_url(server.url);
        if (auto* error = std::get_if<std::string>(&parsed)) {
          return "invalid server URL \"" + server.url + "\": " + *error;
        }
        auto& url = std::get<ParsedUrl>(parsed);
        ServerTarget target;
        target.url = server.url;
        target.host = std::move(url.host);
        target.port = url.port;
        target.authority = std::move(url.authority);
        target.tls = url.tls;
        // TLS and plain connections to one host:port are never interchangeable.
        target.pool_key = (url.tls ? "tls:" : "") + target.host + ":" + std::to_string(target.port);
        if (server.preserve_path && url.path != "/") target.path_prefix = std::move(url.path);
        // Hashed only where a cookie can name it: a first SHA-256 loads much of libcrypto.
        if (node.sticky) target.sticky_value = sticky_value(server.url);
        target.weight = clamp_weight(server.weight);
        target.health = options_.health != nullptr ? options_.health->acquire(server.url)
                                                   : std::make_shared<ServerHealth>();
        node.servers.push_back(std::move(target));
      }
      return node;
    }
    const auto& weighted = std::get<config::Weighted>(service.kind);
    node.kind = ServiceNode::Kind::weighted;
    node.sticky = make_sticky(weighted.sticky, name);
    const std::string_view provider = provider_of(name);
    for (const auto& ref : weighted.services) {
      std::string child_name = resolve_ref(ref.name, provider);
      auto child = resolve(child_name);
      if (auto* error = std::get_if<std::string>(&child)) return *error;
      std::string value = node.sticky ? sticky_value(child_name) : std::string();
      node.children.push_back(WeightedChild{std::get<std::size_t>(child), std::move(child_name),
                                            std::move(value), clamp_weight(ref.weight)});
    }
    return node;
  }

  const config::Configuration& configuration_;
  const BuildOptions& options_;
  Snapshot& snapshot_;
  config::Diagnostics& errors_;
  std::map<std::string, std::string, std::less<>> broken_;
  std::vector<std::string> stack_;
};

}  // namespace

std::string_view normalize_host(std::string_view host, std::span<char> out) noexcept {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.size() > out.size()) return {};
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return {out.data(), host.size()};
}

RouteTable::RouteTable(std::vector<Route> routes) : routes_(std::move(routes)) {
  std::sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    return a.priority != b.priority ? a.priority > b.priority : a.name < b.name;
  });
  std::vector<std::pair<std::string, std::uint32_t>> by_path_prefix;
  for (std::uint32_t i = 0; i < routes_.size(); ++i) {
    const auto& hosts = routes_[i].rule.required_hosts();
    const bool host_indexable =
        !hosts.empty() && std::none_of(hosts.begin(), hosts.end(), [](const std::string& h) {
          return h.find('*') != std::string::npos;
        });
    if (host_indexable) {
      for (const auto& host : hosts) {
        auto& list = by_host_[host];
        if (list.empty() || list.back() != i) list.push_back(i);
      }
    } else if (const auto& prefixes = routes_[i].rule.required_path_prefixes(); !prefixes.empty()) {
      for (const auto& prefix : prefixes) by_path_prefix.emplace_back(prefix, i);
    } else {
      fallback_.push_back(i);
    }
  }
  by_path_prefix_ = rules::PathPrefixIndex(by_path_prefix);
}

const Route* RouteTable::match(const rules::RequestView& request) const noexcept {
  std::array<char, 256> buffer{};
  const std::string_view host = normalize_host(request.host, buffer);
  std::span<const std::uint32_t> by_host;
  if (!host.empty()) {
    if (auto it = by_host_.find(host); it != by_host_.end()) by_host = it->second;
  }
  // The lists hold positions in the sorted routes, so taking the lowest head first keeps
  // priority order across them.
  std::array<std::span<const std::uint32_t>, 3> lists{
      by_host, by_path_prefix_.candidates(request.path), std::span<const std::uint32_t>(fallback_)};
  for (;;) {
    std::span<const std::uint32_t>* lowest = nullptr;
    for (auto& list : lists) {
      if (!list.empty() && (lowest == nullptr || list.front() < lowest->front())) lowest = &list;
    }
    if (lowest == nullptr) return nullptr;
    const std::uint32_t next = lowest->front();
    *lowest = lowest->subspan(1);
    if (routes_[next].rule.matches(request)) return &routes_[next];
  }
}

const RouteTable* Snapshot::routes(std::string_view entry_point) const noexcept {
  auto it = entry_points.find(entry_point);
  return it == entry_points.end() ? nullptr : &it->second;
}

const RouteTable* Snapshot::tls_routes(std::string_view entry_point) const noexcept {
  auto it = tls_entry_points.find(entry_point);
  return it == tls_entry_points.end() ? nullptr : &it->second;
}

std::string_view Snapshot::tls_options_for(std::string_view entry_point,
                                           std::string_view server_name) const noexcept {
  constexpr std::string_view fallback = "default";
  auto it = tls_options.find(entry_point);
  if (it == tls_options.end()) return fallback;
  auto host = it->second.find(server_name);
  return host == it->second.end() ? fallback : std::string_view(host->second);
}

const ServiceNode* Snapshot::service(std::string_view name) const noexcept {
  auto it = service_index.find(name);
  return it == service_index.end() ? nullptr : &services[it->second];
}

BuildResult build_snapshot(const config::Configuration& configuration,
                           const BuildOptions& options) {
  auto snapshot = std::make_shared<Snapshot>();
  BuildResult result;
  ServiceBuilder services(configuration, options, *snapshot, result.errors);

  // Every service is built (and reported) even when no router uses it, so the API shows its errors.
  for (const auto& [name, service] : configuration.http.services) services.resolve(name);
  for (const auto& [name, middleware] : configuration.http.middlewares) {
    snapshot->middlewares.push_back(name);
  }

  std::map<std::string, std::vector<Route>, std::less<>> per_entry_point;
  std::map<std::string, std::vector<Route>, std::less<>> per_entry_point_tls;
  for (const auto& entry_point : options.entry_points) per_entry_point[entry_point];

  for (const auto& [name, router] : configuration.http.routers) {
    auto fail = [&](std::string message) {
      result.errors.push_back(Diagnostic{ResourceKind::router, name, {}, std::move(message)});
    };
    const std::string_view provider = provider_of(name);

    std::vector<std::string> entry_points;
    const auto& wanted =
        router.entry_points.empty() ? options.default_entry_points : router.entry_points;
    for (const auto& entry_point : wanted) {
      if (per_entry_point.find(entry_point) == per_entry_point.end()) {
        fail("entryPoint \"" + entry_point + "\" doesn't exist");
      } else {
        entry_points.push_back(entry_point);
      }
    }
    if (entry_points.empty()) {
      fail("no valid entryPoint for this router");
      continue;
    }

    auto compiled = rules::compile(router.rule);
    if (auto* error = std::get_if<rules::RuleError>(&compiled)) {
      fail("invalid rule \"" + router.rule + "\": " + error->to_string());
      continue;
    }
    if (router.priority > max_user_priority) {
      fail("the router priority " + std::to_string(router.priority) +
           " exceeds the max user-defined priority " + std::to_string(max_user_priority));
      continue;
    }
    if (router.service.empty()) {
      fail("the router has no service");
      continue;
    }
    auto service = services.resolve(resolve_ref(router.service, provider));
    if (auto* error = std::get_if<std::string>(&service)) {
      fail(*error);
      continue;
    }
    Route route;
    route.name = name;
    bool middlewares_ok = true;
    for (const auto& middleware : router.middlewares) {
      std::string qualified = resolve_ref(middleware, provider);
      if (configuration.http.middlewares.find(qualified) == configuration.http.middlewares.end()) {
        fail("middleware \"" + qualified + "\" does not exist");
        middlewares_ok = false;
        break;
      }
      route.middlewares.push_back(std::move(qualified));
    }
    if (!middlewares_ok) continue;
    if (options.chains && !route.middlewares.empty()) {
      auto chain = options.chains(route.middlewares, provider, configuration.http.middlewares);
      if (!chain.errors.empty()) {
        std::string message = "middlewares failed";
        for (std::size_t i = 0; i < chain.errors.size(); ++i) {
          message += i == 0 ? ": " : "; ";
          message += chain.errors[i];
        }
        fail(std::move(message));
        continue;
      }
      route.chain = std::move(chain.chain);
    }
    route.rule = std::get<rules::Rule>(std::move(compiled));
    route.priority = router.priority != 0 ? router.priority : route.rule.default_priority();
    route.service = std::get<std::size_t>(service);
    for (const auto& entry_point : entry_points) {
      const bool tls_entry_point =
          std::find(options.tls_entry_points.begin(), options.tls_entry_points.end(),
                    entry_point) != options.tls_entry_points.end();
      Route copy = route;
      copy.tls = router.tls.has_value() || tls_entry_point;
      if (copy.tls) {
        // As written: the TLS store resolves "name" and "name@provider" alike.
        copy.tls_options =
            router.tls && !router.tls->options.empty() ? router.tls->options : "default";
        auto& by_host = snapshot->tls_options[entry_point];
        for (const auto& host : copy.rule.required_hosts()) {
          auto [it, inserted] = by_host.emplace(host, copy.tls_options);
          if (!inserted && it->second != copy.tls_options) it->second = "default";
        }
        per_entry_point_tls[entry_point].push_back(std::move(copy));
      } else {
        per_entry_point[entry_point].push_back(std::move(copy));
      }
    }
  }

  for (auto& [entry_point, routes] : per_entry_point) {
    snapshot->entry_points.emplace(entry_point, RouteTable(std::move(routes)));
  }
  for (auto& [entry_point, routes] : per_entry_point_tls) {
    snapshot->tls_entry_points.emplace(entry_point, RouteTable(std::move(routes)));
  }
  result.snapshot = std::move(snapshot);
  return result;
}

}  // namespace berth::runtime
