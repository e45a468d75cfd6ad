#include "berth/labels/labels.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "address.hpp"
#include "constraints.hpp"
#include "decoder.hpp"
#include "go_template.hpp"
#include "label_tree.hpp"

namespace berth::labels {

// The `server.*` keys of a load balancer: Traefik's labels describe one server (this container's),
// which becomes an entry of `servers`.
struct ServerLabels {
  std::optional<std::int64_t> port;
  std::string scheme;
  std::string url;
  std::optional<std::int64_t> weight;
  bool preserve_path = false;
};

template <class V>
void visit_fields(V& v, ServerLabels& s) {
  v.field("port", s.port);
  v.field("scheme", s.scheme);
  v.field("url", s.url);
  v.field("weight", s.weight);
  v.field("preservePath", s.preserve_path);
}

struct LoadBalancerLabels {
  ServerLabels server;
  config::LoadBalancer load_balancer;
};

template <class V>
void visit_fields(V& v, LoadBalancerLabels& lb) {
  v.field("server", lb.server);
  config::visit_fields(v, lb.load_balancer);
}

struct ServiceLabels {
  LoadBalancerLabels load_balancer;
};

template <class V>
void visit_fields(V& v, ServiceLabels& s) {
  v.field("loadBalancer", s.load_balancer);
}

namespace {

using config::Diagnostic;
using config::ResourceKind;
using config::Severity;

constexpr std::string_view traefik_prefix = "traefik.";

struct ServiceDraft {
  config::LoadBalancer load_balancer;
  ServerLabels server;
};

// What one container contributes before replicas are merged.
struct Outcome {
  const ContainerInfo* container = nullptr;
  ContainerDecision decision;
  bool kept = false;
  bool draining = false;
  bool wants_servers = true;
  config::Configuration configuration;
};

struct Context {
  const ProviderOptions& options;
  const Constraints* constraints = nullptr;  // null when the expression is invalid
  config::Diagnostics& diagnostics;
};

class ContainerBuilder {
 public:
  ContainerBuilder(const ContainerInfo& container, const Context& context)
      : container_(container), context_(context) {
    outcome_.container = &container;
    outcome_.decision.id = container.id;
    outcome_.decision.name = container.name;
  }

  Outcome build() {
    try {
      run();
    } catch (const std::exception& e) {
      outcome_.configuration = {};
      exclude(std::string("internal error while decoding labels: ") + e.what());
      diagnose(ResourceKind::container, container_.name, outcome_.decision.reason);
    }
    return std::move(outcome_);
  }

 private:
  void run() {
    read_tree();
    if (!filter()) return;
    const LabelNode* http = root_.find("http");
    if (!http && (root_.find("tcp") || root_.find("udp"))) {
      exclude("has only traefik.tcp/udp labels, and berth serves HTTP only");
      return;
    }
    if (http) read_http(*http);
    if (!make_defaults()) return;
    if (outcome_.wants_servers && !add_servers()) return;
    finish();
  }

  void exclude(std::string reason) {
    outcome_.kept = false;
    outcome_.decision.routed = false;
    outcome_.decision.reason = std::move(reason);
  }

  void diagnose(ResourceKind kind, const std::string& name, std::string message,
                Severity severity = Severity::error) {
    context_.diagnostics.push_back(
        Diagnostic{kind, name, container_.name, std::move(message), severity});
  }

  void container_note(std::string message, Severity severity) {
    diagnose(ResourceKind::container, container_.name, std::move(message), severity);
  }

  void read_tree() {
    for (const auto& [key, value] : container_.labels) {
      if (key.size() < traefik_prefix.size() ||
          !iequals(std::string_view(key).substr(0, traefik_prefix.size()), traefik_prefix)) {
        continue;
      }
      std::vector<std::string> segments =
          split_key(std::string_view(key).substr(traefik_prefix.size()));
      if (std::any_of(segments.begin(), segments.end(), [](const auto& s) { return s.empty(); })) {
        container_note("label " + quote_value(key) + " has an empty key segment; ignored",
                       Severity::warning);
        continue;
      }
      if (std::optional<std::string> previous = root_.insert(segments, 0, value)) {
        container_note("label " + quote_value(key) + " repeats " + *previous +
                           " (keys are case-insensitive); ignored",
                       Severity::warning);
      }
    }
  }

  std::optional<bool> bool_label(const LabelNode* node, const std::string& key) {
    if (!node) return std::nullopt;
    if (node->value() && node->children().empty()) {
      if (std::optional<bool> value = parse_bool(*node->value())) return value;
    }
    container_note("traefik." + key + " expects true or false, got " +
                       (node->value() ? quote_value(*node->value()) : std::string("sub-keys")),
                   Severity::error);
    return std::nullopt;
  }

  // Traefik's keepContainer order: enable, constraints, state, health.
  bool filter() {
    const ProviderOptions& options = context_.options;
    if (const LabelNode* enable = root_.find("enable")) {
      std::optional<bool> enabled = bool_label(enable, "enable");
      if (!enabled) {
        exclude("invalid traefik.enable value");
        return false;
      }
      if (!*enabled) {
        exclude("disabled by traefik.enable=false");
        return false;
      }
    } else if (!options.exposed_by_default) {
      exclude("not exposed: exposedByDefault is false and traefik.enable is not true");
      return false;
    }

    if (!context_.constraints) {
      exclude("the provider's constraints expression is invalid");
      return false;
    }
    if (!context_.constraints->matches(container_.labels)) {
      exclude("does not match the provider's constraints");
      return false;
    }

    read_provider_labels();

    const std::string state = container_.state.empty() ? "running" : container_.state;
    std::string note;
    if (state != "running") {
      if (!allow_non_running_) {
        exclude("not running (" + state + ")");
        return false;
      }
      outcome_.wants_servers = false;
      note = "not running (" + state + "): kept with no servers (traefik.docker.allownonrunning)";
    } else if (!container_.health.empty() && container_.health != "healthy") {
      std::string health = "health is " + container_.health;
      if (!options.allow_empty_services) {
        exclude(health + " (set allowEmptyServices to keep its routers with no servers)");
        return false;
      }
      outcome_.wants_servers = false;
      note = health + ": kept with no servers (allowEmptyServices)";
    }
    if (container_.draining) {
      // A stopping container takes no new requests; its routers and services stay (with no servers
      // from it) so that a rolling update never turns into 404s, but replicas that are not stopping
      // take precedence over them when merging.
      outcome_.draining = true;
      outcome_.decision.draining = true;
      outcome_.wants_servers = false;
      note = "draining (stopping): no new requests; its servers are removed";
    }
    outcome_.kept = true;
    outcome_.decision.reason = note;
    return true;
  }

  void read_provider_labels() {
    if (const LabelNode* docker = root_.find("docker")) {
      for (const auto& child : docker->children()) {
        if (iequals(child->segment(), "network")) {
          if (child->value() && child->children().empty()) {
            label_network_ = *child->value();
          } else {
            container_note("traefik.docker.network expects a network name", Severity::error);
          }
        } else if (iequals(child->segment(), "allownonrunning")) {
          allow_non_running_ = bool_label(child.get(), "docker.allownonrunning").value_or(false);
        } else {
          container_note("unknown label key " + child->key() + "; ignored", Severity::warning);
        }
      }
    }
    for (const auto& child : root_.children()) {
      const std::string lower = to_lower(child->segment());
      if (lower == "enable" || lower == "docker" || lower == "http") continue;
      if (lower == "tcp" || lower == "udp" || lower == "tls") {
        container_note("traefik." + lower + ".* labels are ignored: berth serves HTTP only",
                       Severity::info);
      } else if (lower == "swarm") {
        container_note("traefik.swarm.* labels are ignored: berth reads standalone Docker",
                       Severity::info);
      } else {
        container_note("unknown label key traefik." + child->segment() + "; ignored",
                       Severity::warning);
      }
    }
  }

  // Returns false (with a diagnostic) when the resource name cannot be used.
  bool valid_name(ResourceKind kind, const LabelNode& node) {
    if (node.segment().find('@') == std::string::npos) return true;
    diagnose(kind, node.segment(),
             "'@' is not allowed in a resource name (" + node.key() +
                 "); it separates the name from the provider");
    return false;
  }

  void report(ResourceKind kind, const std::string& name, const std::vector<std::string>& errors) {
    for (const auto& message : errors) diagnose(kind, name, message);
  }

  void read_http(const LabelNode& http) {
    if (http.value()) {
      container_note("label traefik.http needs sub-keys; ignored", Severity::warning);
    }
    for (const auto& group : http.children()) {
      const std::string lower = to_lower(group->segment());
      if (lower != "routers" && lower != "services" && lower != "middlewares") {
        container_note("unknown label key " + group->key() +
                           " (expected traefik.http.routers, services or middlewares); ignored",
                       Severity::warning);
        continue;
      }
      if (group->value()) {
        container_note("label " + group->key() + " needs sub-keys; ignored", Severity::warning);
      }
      for (const auto& resource : group->children()) {
        if (lower == "routers") {
          read_router(*resource);
        } else if (lower == "services") {
          read_service(*resource);
        } else {
          read_middleware(*resource);
        }
      }
    }
  }

  void read_router(const LabelNode& node) {
    router_labels_ = true;
    if (!valid_name(ResourceKind::router, node)) return;
    Decoder decoder;
    config::Router router;
    decoder.decode(node, router);
    if (!decoder.errors().empty()) {
      report(ResourceKind::router, node.segment(), decoder.errors());
      return;
    }
    if (!router.rule_syntax.empty()) {
      diagnose(ResourceKind::router, node.segment(),
               "ruleSyntax is deprecated; berth reads every rule with the v3 syntax",
               Severity::warning);
    }
    routers_.emplace_back(node.segment(), std::move(router));
  }

  void read_service(const LabelNode& node) {
    service_names_.push_back(node.segment());
    if (!valid_name(ResourceKind::service, node)) return;
    Decoder decoder;
    ServiceLabels labels;
    decoder.decode(node, labels);
    ServerLabels& server = labels.load_balancer.server;
    config::LoadBalancer& lb = labels.load_balancer.load_balancer;
    std::vector<std::string> errors = decoder.errors();
    if (errors.empty() && !node.find("loadbalancer")) {
      errors.push_back("service " + node.segment() + " has no loadbalancer labels");
    }
    if (server.port && (*server.port < 1 || *server.port > 65535)) {
      errors.push_back("server.port=" + std::to_string(*server.port) +
                       ": expected a port number from 1 to 65535");
    }
    if (server.weight && *server.weight < 0) {
      errors.push_back("server.weight=" + std::to_string(*server.weight) +
                       ": a weight cannot be negative");
    }
    if (!server.url.empty()) {
      if (server.port || !server.scheme.empty()) {
        errors.push_back("server.url cannot be combined with server.port or server.scheme");
      }
      std::size_t separator = server.url.find("://");
      if (separator == std::string::npos || separator == 0 || separator + 3 >= server.url.size()) {
        errors.push_back("server.url=" + quote_value(server.url) +
                         ": expected an absolute URL such as http://host:port");
      }
    }
    if (!errors.empty()) {
      report(ResourceKind::service, node.segment(), errors);
      return;
    }
    fix_sticky(node, lb);
    services_.emplace_back(node.segment(), ServiceDraft{std::move(lb), std::move(server)});
  }

  // Traefik creates a cookie only for `sticky.cookie` or its sub-keys; `sticky=true` alone gives an
  // empty Sticky that does nothing. berth reads `sticky=true` as "sticky with a default cookie",
  // and like Traefik lets `sticky=false` or `sticky.cookie=false` turn stickiness off.
  static void fix_sticky(const LabelNode& service, config::LoadBalancer& lb) {
    if (!lb.sticky || lb.sticky->cookie) return;
    const LabelNode* sticky = service.find("loadbalancer")->find("sticky");
    if (sticky && sticky->find("cookie")) {
      lb.sticky.reset();
    } else {
      lb.sticky->cookie.emplace();
    }
  }

  void read_middleware(const LabelNode& node) {
    const std::string& name = node.segment();
    if (!valid_name(ResourceKind::middleware, node)) return;
    if (node.value() || node.children().size() != 1) {
      std::string kinds;
      for (const auto& child : node.children()) {
        kinds += (kinds.empty() ? "" : ", ") + child->segment();
      }
      std::string message =
          "middleware " + name + " has several kinds (" + kinds + "); give it one";
      if (node.children().empty()) {
        message = "middleware " + name + " needs a kind: " + node.key() + ".<kind>.<option>";
      } else if (node.value()) {
        message = node.key() + "=" + quote_value(*node.value()) + ": expected " + node.key() +
                  ".<kind>.<option> labels, not a value";
      }
      diagnose(ResourceKind::middleware, name, message);
      return;
    }
    const LabelNode& kind_node = *node.children().front();
    std::string kind_name = kind_node.segment();
    if (iequals(kind_name, "ipwhitelist")) {
      diagnose(ResourceKind::middleware, name, "ipWhiteList is deprecated; use ipAllowList",
               Severity::warning);
      kind_name = "ipAllowList";
    }
    config::Middleware middleware;
    if (!select_kind(kind_name, middleware.kind)) {
      diagnose(ResourceKind::middleware, name,
               "unknown or unsupported middleware kind \"" + kind_node.segment() + "\" (in " +
                   kind_node.key() + "); berth supports " + supported_kinds());
      return;
    }
    Decoder decoder;
    std::visit([&](auto& kind) { decoder.decode(kind_node, kind); }, middleware.kind);
    if (!decoder.errors().empty()) {
      report(ResourceKind::middleware, name, decoder.errors());
      return;
    }
    middlewares_.emplace_back(name, std::move(middleware));
  }

  template <std::size_t I = 0>
  static bool select_kind(std::string_view name, config::MiddlewareKind& kind) {
    if constexpr (I < std::variant_size_v<config::MiddlewareKind>) {
      using Kind = std::variant_alternative_t<I, config::MiddlewareKind>;
      if (iequals(Kind::kind_name, name)) {
        kind.emplace<I>();
        return true;
      }
      return select_kind<I + 1>(name, kind);
    } else {
      return false;
    }
  }

  template <std::size_t I = 0>
  static std::string supported_kinds() {
    if constexpr (I < std::variant_size_v<config::MiddlewareKind>) {
      std::string rest = supported_kinds<I + 1>();
      std::string name(std::variant_alternative_t<I, config::MiddlewareKind>::kind_name);
      return rest.empty() ? name : name + ", " + rest;
    } else {
      return {};
    }
  }

  std::string template_name() const {
    auto project = container_.labels.find("com.docker.compose.project");
    auto service = container_.labels.find("com.docker.compose.service");
    if (project != container_.labels.end() && service != container_.labels.end()) {
      return service->second + "_" + project->second;
    }
    return container_name();
  }

  std::string container_name() const {
    std::string_view name = container_.name;
    if (name.starts_with('/')) name.remove_prefix(1);
    return std::string(name);
  }

  // Auto-created service and router (Traefik's BuildRouterConfiguration), default rules, and the
  // link from routers without a service to the container's only service.
  bool make_defaults() {
    std::string default_name = normalize(template_name());
    if (default_name.empty()) default_name = normalize(container_.id);
    if (service_names_.empty()) {
      if (default_name.empty()) {
        exclude("has no name from which to derive its service name");
        return false;
      }
      service_names_.push_back(default_name);
      services_.emplace_back(default_name, ServiceDraft{});
    }
    if (!router_labels_ && service_names_.size() == 1 && !default_name.empty()) {
      routers_.emplace_back(default_name, config::Router{});
    }

    TemplateModel model{template_name(), container_name(), &container_.labels};
    std::vector<std::pair<std::string, config::Router>> kept;
    for (auto& [name, router] : routers_) {
      if (router.rule.empty()) {
        auto rule = execute_template(context_.options.default_rule, model);
        if (auto* error = std::get_if<TemplateError>(&rule)) {
          diagnose(ResourceKind::router, name, "default rule template: " + error->message);
          continue;
        }
        router.rule = std::get<std::string>(rule);
        if (router.rule.empty()) {
          diagnose(ResourceKind::router, name, "the default rule template gave an empty rule");
          continue;
        }
      }
      if (router.service.empty()) {
        if (service_names_.size() != 1) {
          std::string names;
          for (const auto& s : service_names_) names += (names.empty() ? "" : ", ") + s;
          diagnose(ResourceKind::router, name,
                   "router " + name + " names no service and the container defines several (" +
                       names + "); set traefik.http.routers." + name + ".service");
          continue;
        }
        router.service = service_names_.front();
      }
      kept.emplace_back(name, std::move(router));
    }
    routers_ = std::move(kept);
    return true;
  }

  bool add_servers() {
    std::optional<Address> address;
    std::string ips;
    for (auto& [name, draft] : services_) {
      const ServerLabels& labels = draft.server;
      config::Server server;
      server.weight = labels.weight;
      server.preserve_path = labels.preserve_path;
      if (!labels.url.empty()) {
        server.url = labels.url;
      } else {
        std::optional<std::uint16_t> port =
            labels.port ? std::optional(static_cast<std::uint16_t>(*labels.port))
                        : lowest_tcp_port(container_);
        if (!port) {
          std::string message =
              "port is missing: the container exposes no TCP port; set "
              "traefik.http.services." +
              name + ".loadbalancer.server.port";
          diagnose(ResourceKind::container, container_.name, message);
          exclude(std::move(message));
          return false;
        }
        if (!address) {
          auto chosen = choose_address(container_, label_network_, context_.options);
          if (auto* reason = std::get_if<std::string>(&chosen)) {
            diagnose(ResourceKind::container, container_.name, "no address: " + *reason);
            exclude("no address: " + *reason);
            return false;
          }
          address = std::get<Address>(std::move(chosen));
          for (const auto& warning : address->warnings) container_note(warning, Severity::warning);
        }
        std::string host = address->ip;
        std::string port_text = std::to_string(*port);
        if (context_.options.use_bind_port_ip) bind_port(name, *port, host, port_text);
        std::string scheme = labels.scheme.empty() ? "http" : labels.scheme;
        server.url = make_url(scheme, host, port_text);
      }
      ips += (ips.empty() ? "" : ", ") + server.url;
      draft.load_balancer.servers.push_back(std::move(server));
    }
    outcome_.decision.reason =
        "routed to " + ips + (address ? " (network " + address->network + ")" : std::string());
    return true;
  }

  // useBindPortIP: the published HostIp:HostPort of the port, when it is published.
  void bind_port(const std::string& service, std::uint16_t port, std::string& host,
                 std::string& port_text) {
    for (const auto& binding : container_.ports) {
      if (binding.number != port || (!binding.protocol.empty() && binding.protocol != "tcp") ||
          binding.host_port.empty()) {
        continue;
      }
      // A binding on every interface is reached through loopback from the host's side.
      if (binding.host_ip.empty() || binding.host_ip == "0.0.0.0") {
        host = "127.0.0.1";
      } else if (binding.host_ip == "::") {
        host = "::1";
      } else {
        host = binding.host_ip;
      }
      port_text = binding.host_port;
      return;
    }
    diagnose(ResourceKind::service, service,
             "useBindPortIP: port " + std::to_string(port) +
                 " is not published; using the container's own address",
             Severity::warning);
  }

  void finish() {
    auto& http = outcome_.configuration.http;
    for (auto& [name, draft] : services_) {
      http.services.emplace(name, config::Service{std::move(draft.load_balancer)});
    }
    for (auto& [name, router] : routers_) http.routers.emplace(name, std::move(router));
    for (auto& [name, middleware] : middlewares_)
      http.middlewares.emplace(name, std::move(middleware));
    outcome_.kept = true;
  }

  const ContainerInfo& container_;
  const Context& context_;
  Outcome outcome_;
  LabelNode root_{"traefik", "traefik"};
  std::string label_network_;
  bool allow_non_running_ = false;
  bool router_labels_ = false;
  std::vector<std::string> service_names_;  // every service the labels name, valid or not
  std::vector<std::pair<std::string, ServiceDraft>> services_;
  std::vector<std::pair<std::string, config::Router>> routers_;
  std::vector<std::pair<std::string, config::Middleware>> middlewares_;
};

// Replica merging (Traefik's provider merge): equal routers and middlewares are one; services equal
// in everything but their servers are one with the union of servers (deduplicated by URL); anything
// else defined differently is removed, naming both containers.
class Merger {
 public:
  explicit Merger(config::Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

  void add(const Outcome& outcome) {
    const auto& http = outcome.configuration.http;
    const std::string& container = outcome.container->name;
    for (const auto& [name, router] : http.routers) {
      merge(routers_, ResourceKind::router, name, router, container, outcome.draining,
            [](config::Router&, const config::Router&) {});
    }
    for (const auto& [name, middleware] : http.middlewares) {
      merge(middlewares_, ResourceKind::middleware, name, middleware, container, outcome.draining,
            [](config::Middleware&, const config::Middleware&) {});
    }
    for (const auto& [name, service] : http.services) {
      merge(services_, ResourceKind::service, name, service, container, outcome.draining,
            add_servers);
    }
  }

  config::Configuration take() {
    config::Configuration configuration;
    for (auto& [name, owned] : routers_) configuration.http.routers.emplace(name, owned.value);
    for (auto& [name, owned] : services_) configuration.http.services.emplace(name, owned.value);
    for (auto& [name, owned] : middlewares_) {
      configuration.http.middlewares.emplace(name, owned.value);
    }
    return configuration;
  }

  bool survived(ResourceKind kind, const std::string& name) const {
    switch (kind) {
      case ResourceKind::router:
        return routers_.contains(name);
      case ResourceKind::service:
        return services_.contains(name);
      default:
        return middlewares_.contains(name);
    }
  }

 private:
  template <class T>
  struct Owned {
    T value;
    std::string owner;
    bool draining = false;
  };

  static bool same_except_servers(const config::Service& a, const config::Service& b) {
    const auto* la = std::get_if<config::LoadBalancer>(&a.kind);
    const auto* lb = std::get_if<config::LoadBalancer>(&b.kind);
    if (!la || !lb) return a == b;
    config::LoadBalancer x = *la;
    config::LoadBalancer y = *lb;
    x.servers.clear();
    y.servers.clear();
    return x == y;
  }

  static bool same(const config::Service& a, const config::Service& b) {
    return same_except_servers(a, b);
  }
  template <class T>
  static bool same(const T& a, const T& b) {
    return a == b;
  }

  static void add_servers(config::Service& into, const config::Service& from) {
    auto* target = std::get_if<config::LoadBalancer>(&into.kind);
    const auto* source = std::get_if<config::LoadBalancer>(&from.kind);
    if (!target || !source) return;
    for (const auto& server : source->servers) {
      bool known = std::any_of(target->servers.begin(), target->servers.end(),
                               [&](const config::Server& s) { return s.url == server.url; });
      if (!known) target->servers.push_back(server);
    }
  }

  template <class T, class Combine>
  void merge(std::map<std::string, Owned<T>>& into, ResourceKind kind, const std::string& name,
             const T& value, const std::string& container, bool draining, Combine combine) {
    auto key = std::make_pair(kind, name);
    if (conflicted_.contains(key)) return;
    auto it = into.find(name);
    if (it == into.end()) {
      into.emplace(name, Owned<T>{value, container, draining});
      return;
    }
    // Stopping containers come last and never overrule, or conflict with, the running replicas.
    if (draining && !it->second.draining) return;
    if (same(it->second.value, value)) {
      combine(it->second.value, value);
      return;
    }
    diagnostics_.push_back(Diagnostic{kind, name, container,
                                      std::string{config::to_string(kind)} + " " + name +
                                          " defined differently by containers " + it->second.owner +
                                          " and " + container + "; it is removed until they agree",
                                      Severity::error});
    conflicted_.insert(key);
    into.erase(it);
  }

  config::Diagnostics& diagnostics_;
  std::map<std::string, Owned<config::Router>> routers_;
  std::map<std::string, Owned<config::Service>> services_;
  std::map<std::string, Owned<config::Middleware>> middlewares_;
  std::set<std::pair<ResourceKind, std::string>> conflicted_;
};

Result build(std::span<const ContainerInfo> containers, const ProviderOptions& options) {
  Result result;
  std::optional<Constraints> constraints;
  auto parsed = Constraints::parse(options.constraints);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    result.diagnostics.push_back(Diagnostic{ResourceKind::provider, "docker", "",
                                            "invalid constraints expression: " + *error,
                                            Severity::error});
  } else {
    constraints = std::get<Constraints>(std::move(parsed));
  }
  Context context{options, constraints ? &*constraints : nullptr, result.diagnostics};

  std::vector<const ContainerInfo*> ordered;
  ordered.reserve(containers.size());
  for (const auto& container : containers) ordered.push_back(&container);
  std::sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) {
    return std::tie(a->name, a->id) < std::tie(b->name, b->id);
  });

  std::vector<Outcome> outcomes;
  outcomes.reserve(ordered.size());
  for (const auto* container : ordered) {
    outcomes.push_back(ContainerBuilder(*container, context).build());
  }

  Merger merger(result.diagnostics);
  for (bool draining : {false, true}) {
    for (const auto& outcome : outcomes) {
      if (outcome.kept && outcome.draining == draining) merger.add(outcome);
    }
  }
  result.configuration = merger.take();

  for (auto& outcome : outcomes) {
    ContainerDecision& decision = outcome.decision;
    if (outcome.kept) {
      for (const auto& [name, router] : outcome.configuration.http.routers) {
        if (merger.survived(ResourceKind::router, name)) decision.routers.push_back(name);
      }
      for (const auto& [name, service] : outcome.configuration.http.services) {
        if (merger.survived(ResourceKind::service, name)) decision.services.push_back(name);
      }
      if (!outcome.wants_servers) {
        decision.routed = false;
      } else if (decision.services.empty()) {
        decision.routed = false;
        decision.reason = "none of its services survived (see the diagnostics)";
      } else {
        decision.routed = true;
      }
    }
    result.containers.push_back(std::move(decision));
  }
  return result;
}

}  // namespace

Result build_configuration(std::span<const ContainerInfo> containers,
                           const ProviderOptions& options) {
  try {
    return build(containers, options);
  } catch (const std::exception& e) {
    Result result;
    std::string message = std::string("internal error: ") + e.what();
    result.diagnostics.push_back(
        Diagnostic{ResourceKind::provider, "docker", "", message, Severity::error});
    for (const auto& container : containers) {
      result.containers.push_back(
          ContainerDecision{container.id, container.name, false, message, {}, {}});
    }
    return result;
  }
}

}  // namespace berth::labels
