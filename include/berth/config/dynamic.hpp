#pragma once
// The dynamic configuration: routers, services and middlewares, as plain data mirroring Traefik's
// `dynamic.HTTPConfiguration`.
//
// Every struct has a `visit_fields(visitor, value)` overload listing its fields under Traefik's
// JSON names. JSON (config/json.hpp) and the label decoder (labels/) are both written once,
// generically, over these lists; Traefik's label keys are the same names, lower-cased.

#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "berth/config/duration.hpp"

namespace berth::config {

using StringList = std::vector<std::string>;
using StringMap = std::map<std::string, std::string>;

// ---------------------------------------------------------------------------------------------
// Routers

struct Domain {
  std::string main;
  StringList sans;
  friend bool operator==(const Domain&, const Domain&) = default;
};

struct RouterTls {
  std::string options;
  std::string cert_resolver;
  std::vector<Domain> domains;
  friend bool operator==(const RouterTls&, const RouterTls&) = default;
};

struct RouterObservability {
  std::optional<bool> access_logs;
  std::optional<bool> metrics;
  std::optional<bool> tracing;
  std::string trace_verbosity;
  friend bool operator==(const RouterObservability&, const RouterObservability&) = default;
};

struct Router {
  StringList entry_points;
  StringList middlewares;
  std::string service;
  std::string rule;
  std::string rule_syntax;
  std::int64_t priority = 0;
  std::optional<RouterTls> tls;
  std::optional<RouterObservability> observability;
  friend bool operator==(const Router&, const Router&) = default;
};

// ---------------------------------------------------------------------------------------------
// Services

struct Server {
  std::string url;
  std::optional<std::int64_t> weight;
  bool preserve_path = false;
  friend bool operator==(const Server&, const Server&) = default;
};

struct Cookie {
  std::string name;
  bool secure = false;
  bool http_only = false;
  std::string same_site;
  std::int64_t max_age = 0;
  std::optional<std::string> path;
  std::string domain;
  friend bool operator==(const Cookie&, const Cookie&) = default;
};

struct Sticky {
  std::optional<Cookie> cookie;
  friend bool operator==(const Sticky&, const Sticky&) = default;
};

struct ServerHealthCheck {
  std::string scheme;
  std::string mode;
  std::string path;
  std::string method;
  std::int64_t status = 0;
  std::int64_t port = 0;
  std::optional<Duration> interval;
  std::optional<Duration> unhealthy_interval;
  std::optional<Duration> timeout;
  std::string hostname;
  std::optional<bool> follow_redirects;
  StringMap headers;
  friend bool operator==(const ServerHealthCheck&, const ServerHealthCheck&) = default;
};

struct PassiveHealthCheck {
  std::optional<Duration> failure_window;
  std::optional<std::int64_t> max_failed_attempts;
  friend bool operator==(const PassiveHealthCheck&, const PassiveHealthCheck&) = default;
};

struct ResponseForwarding {
  std::optional<Duration> flush_interval;
  friend bool operator==(const ResponseForwarding&, const ResponseForwarding&) = default;
};

struct LoadBalancer {
  std::optional<Sticky> sticky;
  std::vector<Server> servers;
  std::string strategy;
  std::optional<ServerHealthCheck> health_check;
  std::optional<PassiveHealthCheck> passive_health_check;
  std::optional<bool> pass_host_header;
  std::optional<ResponseForwarding> response_forwarding;
  std::string servers_transport;
  friend bool operator==(const LoadBalancer&, const LoadBalancer&) = default;
};

struct WeightedServiceRef {
  std::string name;
  std::optional<std::int64_t> weight;
  friend bool operator==(const WeightedServiceRef&, const WeightedServiceRef&) = default;
};

/// Presence of this (empty) object on a weighted service turns on health propagation from children.
struct HealthCheckPropagation {
  friend bool operator==(const HealthCheckPropagation&, const HealthCheckPropagation&) = default;
};

struct Weighted {
  std::vector<WeightedServiceRef> services;
  std::optional<Sticky> sticky;
  std::optional<HealthCheckPropagation> health_check;
  friend bool operator==(const Weighted&, const Weighted&) = default;
};

struct Service {
  std::variant<LoadBalancer, Weighted> kind;
  friend bool operator==(const Service&, const Service&) = default;
};

// ---------------------------------------------------------------------------------------------
// Middlewares: one struct per kind; `kind_name` is Traefik's JSON key for it.

struct IpStrategy {
  std::int64_t depth = 0;
  StringList excluded_ips;
  std::int64_t ipv6_subnet = 0;
  friend bool operator==(const IpStrategy&, const IpStrategy&) = default;
};

struct SourceCriterion {
  std::optional<IpStrategy> ip_strategy;
  std::string request_header_name;
  bool request_host = false;
  friend bool operator==(const SourceCriterion&, const SourceCriterion&) = default;
};

struct AddPrefix {
  static constexpr std::string_view kind_name = "addPrefix";
  std::string prefix;
  friend bool operator==(const AddPrefix&, const AddPrefix&) = default;
};

struct StripPrefix {
  static constexpr std::string_view kind_name = "stripPrefix";
  StringList prefixes;
  std::optional<bool> force_slash;
  friend bool operator==(const StripPrefix&, const StripPrefix&) = default;
};

struct StripPrefixRegex {
  static constexpr std::string_view kind_name = "stripPrefixRegex";
  StringList regex;
  friend bool operator==(const StripPrefixRegex&, const StripPrefixRegex&) = default;
};

struct ReplacePath {
  static constexpr std::string_view kind_name = "replacePath";
  std::string path;
  friend bool operator==(const ReplacePath&, const ReplacePath&) = default;
};

struct ReplacePathRegex {
  static constexpr std::string_view kind_name = "replacePathRegex";
  std::string regex;
  std::string replacement;
  friend bool operator==(const ReplacePathRegex&, const ReplacePathRegex&) = default;
};

struct RedirectScheme {
  static constexpr std::string_view kind_name = "redirectScheme";
  std::string scheme;
  std::string port;
  bool permanent = false;
  friend bool operator==(const RedirectScheme&, const RedirectScheme&) = default;
};

struct RedirectRegex {
  static constexpr std::string_view kind_name = "redirectRegex";
  std::string regex;
  std::string replacement;
  bool permanent = false;
  friend bool operator==(const RedirectRegex&, const RedirectRegex&) = default;
};

struct Headers {
  static constexpr std::string_view kind_name = "headers";
  StringMap custom_request_headers;
  StringMap custom_response_headers;
  bool access_control_allow_credentials = false;
  StringList access_control_allow_headers;
  StringList access_control_allow_methods;
  StringList access_control_allow_origin_list;
  StringList access_control_allow_origin_list_regex;
  StringList access_control_expose_headers;
  std::int64_t access_control_max_age = 0;
  bool add_vary_header = false;
  StringList allowed_hosts;
  StringList hosts_proxy_headers;
  StringMap ssl_proxy_headers;
  std::int64_t sts_seconds = 0;
  bool sts_include_subdomains = false;
  bool sts_preload = false;
  bool force_sts_header = false;
  bool frame_deny = false;
  std::string custom_frame_options_value;
  bool content_type_nosniff = false;
  bool browser_xss_filter = false;
  std::string custom_browser_xss_value;
  std::string content_security_policy;
  std::string content_security_policy_report_only;
  std::string public_key;
  std::string referrer_policy;
  std::string permissions_policy;
  bool is_development = false;
  friend bool operator==(const Headers&, const Headers&) = default;
};

struct BasicAuth {
  static constexpr std::string_view kind_name = "basicAuth";
  StringList users;
  std::string users_file;
  std::string realm;
  bool remove_header = false;
  std::string header_field;
  friend bool operator==(const BasicAuth&, const BasicAuth&) = default;
};

struct IpAllowList {
  static constexpr std::string_view kind_name = "ipAllowList";
  StringList source_range;
  std::optional<IpStrategy> ip_strategy;
  std::int64_t reject_status_code = 0;
  friend bool operator==(const IpAllowList&, const IpAllowList&) = default;
};

struct RateLimit {
  static constexpr std::string_view kind_name = "rateLimit";
  std::int64_t average = 0;
  std::optional<Duration> period;
  std::int64_t burst = 0;
  std::optional<SourceCriterion> source_criterion;
  friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

struct InFlightReq {
  static constexpr std::string_view kind_name = "inFlightReq";
  std::int64_t amount = 0;
  std::optional<SourceCriterion> source_criterion;
  friend bool operator==(const InFlightReq&, const InFlightReq&) = default;
};

struct Retry {
  static constexpr std::string_view kind_name = "retry";
  std::int64_t attempts = 0;
  std::optional<Duration> initial_interval;
  friend bool operator==(const Retry&, const Retry&) = default;
};

struct Compress {
  static constexpr std::string_view kind_name = "compress";
  StringList excluded_content_types;
  StringList included_content_types;
  std::int64_t min_response_body_bytes = 0;
  StringList encodings;
  std::string default_encoding;
  friend bool operator==(const Compress&, const Compress&) = default;
};

struct CircuitBreaker {
  static constexpr std::string_view kind_name = "circuitBreaker";
  std::string expression;
  std::optional<Duration> check_period;
  std::optional<Duration> fallback_duration;
  std::optional<Duration> recovery_duration;
  std::int64_t response_code = 0;
  friend bool operator==(const CircuitBreaker&, const CircuitBreaker&) = default;
};

struct Buffering {
  static constexpr std::string_view kind_name = "buffering";
  std::int64_t max_request_body_bytes = 0;
  std::int64_t mem_request_body_bytes = 0;
  std::int64_t max_response_body_bytes = 0;
  std::int64_t mem_response_body_bytes = 0;
  std::string retry_expression;
  friend bool operator==(const Buffering&, const Buffering&) = default;
};

struct ForwardAuthTls {
  std::string ca;
  std::string cert;
  std::string key;
  bool insecure_skip_verify = false;
  friend bool operator==(const ForwardAuthTls&, const ForwardAuthTls&) = default;
};

struct ForwardAuth {
  static constexpr std::string_view kind_name = "forwardAuth";
  std::string address;
  std::optional<ForwardAuthTls> tls;
  bool trust_forward_header = false;
  StringList auth_response_headers;
  std::string auth_response_headers_regex;
  StringList auth_request_headers;
  bool add_auth_cookies_to_response = false;
  std::string header_field;
  bool forward_body = false;
  std::optional<std::int64_t> max_body_size;
  bool preserve_location_header = false;
  bool preserve_request_method = false;
  friend bool operator==(const ForwardAuth&, const ForwardAuth&) = default;
};

struct Chain {
  static constexpr std::string_view kind_name = "chain";
  StringList middlewares;
  friend bool operator==(const Chain&, const Chain&) = default;
};

using MiddlewareKind =
    std::variant<AddPrefix, StripPrefix, StripPrefixRegex, ReplacePath, ReplacePathRegex,
                 RedirectScheme, RedirectRegex, Headers, BasicAuth, IpAllowList, RateLimit,
                 InFlightReq, Retry, Compress, CircuitBreaker, Buffering, ForwardAuth, Chain>;

struct Middleware {
  MiddlewareKind kind;
  friend bool operator==(const Middleware&, const Middleware&) = default;
};

// ---------------------------------------------------------------------------------------------
// The whole dynamic configuration of one provider (keys unqualified) or of all providers merged
// (keys qualified as `name@provider`).

struct HttpConfiguration {
  std::map<std::string, Router> routers;
  std::map<std::string, Service> services;
  std::map<std::string, Middleware> middlewares;
  friend bool operator==(const HttpConfiguration&, const HttpConfiguration&) = default;
};

struct Configuration {
  HttpConfiguration http;
  friend bool operator==(const Configuration&, const Configuration&) = default;
};

/// `name@provider`; a name that already carries a provider is returned unchanged.
std::string qualify(std::string_view name, std::string_view provider);

/// Splits `name@provider`; the provider is empty when the name has none.
struct QualifiedName {
  std::string_view name;
  std::string_view provider;
  friend bool operator==(const QualifiedName&, const QualifiedName&) = default;
};
QualifiedName split_qualified(std::string_view qualified);

/// Copies every resource of `from` into `into` under `name@provider` keys, and qualifies the
/// references inside routers (service, middlewares), chains and weighted services that name no
/// provider.
void add_qualified(Configuration& into, const Configuration& from, std::string_view provider);

// ---------------------------------------------------------------------------------------------
// Field lists. `v.field(json_name, member)` once per member, in Traefik's order.

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Domain>
void visit_fields(V& v, T& d) {
  v.field("main", d.main);
  v.field("sans", d.sans);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, RouterTls>
void visit_fields(V& v, T& t) {
  v.field("options", t.options);
  v.field("certResolver", t.cert_resolver);
  v.field("domains", t.domains);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, RouterObservability>
void visit_fields(V& v, T& o) {
  v.field("accessLogs", o.access_logs);
  v.field("metrics", o.metrics);
  v.field("tracing", o.tracing);
  v.field("traceVerbosity", o.trace_verbosity);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Router>
void visit_fields(V& v, T& r) {
  v.field("entryPoints", r.entry_points);
  v.field("middlewares", r.middlewares);
  v.field("service", r.service);
  v.field("rule", r.rule);
  v.field("ruleSyntax", r.rule_syntax);
  v.field("priority", r.priority);
  v.field("tls", r.tls);
  v.field("observability", r.observability);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Server>
void visit_fields(V& v, T& s) {
  v.field("url", s.url);
  v.field("weight", s.weight);
  v.field("preservePath", s.preserve_path);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Cookie>
void visit_fields(V& v, T& c) {
  v.field("name", c.name);
  v.field("secure", c.secure);
  v.field("httpOnly", c.http_only);
  v.field("sameSite", c.same_site);
  v.field("maxAge", c.max_age);
  v.field("path", c.path);
  v.field("domain", c.domain);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Sticky>
void visit_fields(V& v, T& s) {
  v.field("cookie", s.cookie);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, ServerHealthCheck>
void visit_fields(V& v, T& h) {
  v.field("scheme", h.scheme);
  v.field("mode", h.mode);
  v.field("path", h.path);
  v.field("method", h.method);
  v.field("status", h.status);
  v.field("port", h.port);
  v.field("interval", h.interval);
  v.field("unhealthyInterval", h.unhealthy_interval);
  v.field("timeout", h.timeout);
  v.field("hostname", h.hostname);
  v.field("followRedirects", h.follow_redirects);
  v.field("headers", h.headers);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, PassiveHealthCheck>
void visit_fields(V& v, T& p) {
  v.field("failureWindow", p.failure_window);
  v.field("maxFailedAttempts", p.max_failed_attempts);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, ResponseForwarding>
void visit_fields(V& v, T& r) {
  v.field("flushInterval", r.flush_interval);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, LoadBalancer>
void visit_fields(V& v, T& lb) {
  v.field("sticky", lb.sticky);
  v.field("servers", lb.servers);
  v.field("strategy", lb.strategy);
  v.field("healthCheck", lb.health_check);
  v.field("passiveHealthCheck", lb.passive_health_check);
  v.field("passHostHeader", lb.pass_host_header);
  v.field("responseForwarding", lb.response_forwarding);
  v.field("serversTransport", lb.servers_transport);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, WeightedServiceRef>
void visit_fields(V& v, T& s) {
  v.field("name", s.name);
  v.field("weight", s.weight);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, HealthCheckPropagation>
void visit_fields(V&, T&) {}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Weighted>
void visit_fields(V& v, T& w) {
  v.field("services", w.services);
  v.field("sticky", w.sticky);
  v.field("healthCheck", w.health_check);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, IpStrategy>
void visit_fields(V& v, T& s) {
  v.field("depth", s.depth);
  v.field("excludedIPs", s.excluded_ips);
  v.field("ipv6Subnet", s.ipv6_subnet);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, SourceCriterion>
void visit_fields(V& v, T& s) {
  v.field("ipStrategy", s.ip_strategy);
  v.field("requestHeaderName", s.request_header_name);
  v.field("requestHost", s.request_host);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, AddPrefix>
void visit_fields(V& v, T& m) {
  v.field("prefix", m.prefix);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, StripPrefix>
void visit_fields(V& v, T& m) {
  v.field("prefixes", m.prefixes);
  v.field("forceSlash", m.force_slash);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, StripPrefixRegex>
void visit_fields(V& v, T& m) {
  v.field("regex", m.regex);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, ReplacePath>
void visit_fields(V& v, T& m) {
  v.field("path", m.path);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, ReplacePathRegex>
void visit_fields(V& v, T& m) {
  v.field("regex", m.regex);
  v.field("replacement", m.replacement);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, RedirectScheme>
void visit_fields(V& v, T& m) {
  v.field("scheme", m.scheme);
  v.field("port", m.port);
  v.field("permanent", m.permanent);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, RedirectRegex>
void visit_fields(V& v, T& m) {
  v.field("regex", m.regex);
  v.field("replacement", m.replacement);
  v.field("permanent", m.permanent);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Headers>
void visit_fields(V& v, T& m) {
  v.field("customRequestHeaders", m.custom_request_headers);
  v.field("customResponseHeaders", m.custom_response_headers);
  v.field("accessControlAllowCredentials", m.access_control_allow_credentials);
  v.field("accessControlAllowHeaders", m.access_control_allow_headers);
  v.field("accessControlAllowMethods", m.access_control_allow_methods);
  v.field("accessControlAllowOriginList", m.access_control_allow_origin_list);
  v.field("accessControlAllowOriginListRegex", m.access_control_allow_origin_list_regex);
  v.field("accessControlExposeHeaders", m.access_control_expose_headers);
  v.field("accessControlMaxAge", m.access_control_max_age);
  v.field("addVaryHeader", m.add_vary_header);
  v.field("allowedHosts", m.allowed_hosts);
  v.field("hostsProxyHeaders", m.hosts_proxy_headers);
  v.field("sslProxyHeaders", m.ssl_proxy_headers);
  v.field("stsSeconds", m.sts_seconds);
  v.field("stsIncludeSubdomains", m.sts_include_subdomains);
  v.field("stsPreload", m.sts_preload);
  v.field("forceSTSHeader", m.force_sts_header);
  v.field("frameDeny", m.frame_deny);
  v.field("customFrameOptionsValue", m.custom_frame_options_value);
  v.field("contentTypeNosniff", m.content_type_nosniff);
  v.field("browserXssFilter", m.browser_xss_filter);
  v.field("customBrowserXSSValue", m.custom_browser_xss_value);
  v.field("contentSecurityPolicy", m.content_security_policy);
  v.field("contentSecurityPolicyReportOnly", m.content_security_policy_report_only);
  v.field("publicKey", m.public_key);
  v.field("referrerPolicy", m.referrer_policy);
  v.field("permissionsPolicy", m.permissions_policy);
  v.field("isDevelopment", m.is_development);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, BasicAuth>
void visit_fields(V& v, T& m) {
  v.field("users", m.users);
  v.field("usersFile", m.users_file);
  v.field("realm", m.realm);
  v.field("removeHeader", m.remove_header);
  v.field("headerField", m.header_field);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, IpAllowList>
void visit_fields(V& v, T& m) {
  v.field("sourceRange", m.source_range);
  v.field("ipStrategy", m.ip_strategy);
  v.field("rejectStatusCode", m.reject_status_code);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, RateLimit>
void visit_fields(V& v, T& m) {
  v.field("average", m.average);
  v.field("period", m.period);
  v.field("burst", m.burst);
  v.field("sourceCriterion", m.source_criterion);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, InFlightReq>
void visit_fields(V& v, T& m) {
  v.field("amount", m.amount);
  v.field("sourceCriterion", m.source_criterion);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Retry>
void visit_fields(V& v, T& m) {
  v.field("attempts", m.attempts);
  v.field("initialInterval", m.initial_interval);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Compress>
void visit_fields(V& v, T& m) {
  v.field("excludedContentTypes", m.excluded_content_types);
  v.field("includedContentTypes", m.included_content_types);
  v.field("minResponseBodyBytes", m.min_response_body_bytes);
  v.field("encodings", m.encodings);
  v.field("defaultEncoding", m.default_encoding);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, CircuitBreaker>
void visit_fields(V& v, T& m) {
  v.field("expression", m.expression);
  v.field("checkPeriod", m.check_period);
  v.field("fallbackDuration", m.fallback_duration);
  v.field("recoveryDuration", m.recovery_duration);
  v.field("responseCode", m.response_code);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Buffering>
void visit_fields(V& v, T& m) {
  v.field("maxRequestBodyBytes", m.max_request_body_bytes);
  v.field("memRequestBodyBytes", m.mem_request_body_bytes);
  v.field("maxResponseBodyBytes", m.max_response_body_bytes);
  v.field("memResponseBodyBytes", m.mem_response_body_bytes);
  v.field("retryExpression", m.retry_expression);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, ForwardAuthTls>
void visit_fields(V& v, T& m) {
  v.field("ca", m.ca);
  v.field("cert", m.cert);
  v.field("key", m.key);
  v.field("insecureSkipVerify", m.insecure_skip_verify);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, ForwardAuth>
void visit_fields(V& v, T& m) {
  v.field("address", m.address);
  v.field("tls", m.tls);
  v.field("trustForwardHeader", m.trust_forward_header);
  v.field("authResponseHeaders", m.auth_response_headers);
  v.field("authResponseHeadersRegex", m.auth_response_headers_regex);
  v.field("authRequestHeaders", m.auth_request_headers);
  v.field("addAuthCookiesToResponse", m.add_auth_cookies_to_response);
  v.field("headerField", m.header_field);
  v.field("forwardBody", m.forward_body);
  v.field("maxBodySize", m.max_body_size);
  v.field("preserveLocationHeader", m.preserve_location_header);
  v.field("preserveRequestMethod", m.preserve_request_method);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Chain>
void visit_fields(V& v, T& m) {
  v.field("middlewares", m.middlewares);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, HttpConfiguration>
void visit_fields(V& v, T& h) {
  v.field("routers", h.routers);
  v.field("services", h.services);
  v.field("middlewares", h.middlewares);
}

template <class V, class T>
requires std::same_as<std::remove_const_t<T>, Configuration>
void visit_fields(V& v, T& c) {
  v.field("http", c.http);
}

}  // namespace berth::config
