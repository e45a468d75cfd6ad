// The headers middleware: custom request/response headers, CORS, and the security headers Traefik
// sets through unrolled/secure.

#include <fmt/format.h>

#include <algorithm>
#include <variant>

#include "middleware.hpp"
#include "regex.hpp"

namespace berth::middleware {
namespace {

using Regex = std::shared_ptr<const re2::RE2>;

std::string join(const config::StringList& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out.push_back(',');
    out.append(v);
  }
  return out;
}

class Headers final : public Middleware {
 public:
  Headers(const config::Headers& c, std::vector<Regex> origin_regexes)
      : c_(c), origin_regexes_(std::move(origin_regexes)) {
    cors_ = !c.access_control_allow_origin_list.empty() ||
            !c.access_control_allow_origin_list_regex.empty() ||
            !c.access_control_allow_methods.empty() || !c.access_control_allow_headers.empty() ||
            !c.access_control_expose_headers.empty() || c.access_control_allow_credentials ||
            c.access_control_max_age != 0 || c.add_vary_header;
    allow_headers_ = join(c.access_control_allow_headers);
    allow_methods_ = join(c.access_control_allow_methods);
    expose_headers_ = join(c.access_control_expose_headers);
    if (c.sts_seconds > 0) {
      sts_ = fmt::format("max-age={}", c.sts_seconds);
      if (c.sts_include_subdomains) sts_ += "; includeSubDomains";
      if (c.sts_preload) sts_ += "; preload";
    }
    frame_options_ = c.custom_frame_options_value.empty()
                         ? (c.frame_deny ? std::string("DENY") : std::string())
                         : c.custom_frame_options_value;
    xss_ = c.custom_browser_xss_value.empty()
               ? (c.browser_xss_filter ? std::string("1; mode=block") : std::string())
               : c.custom_browser_xss_value;
  }

  std::optional<Decision> on_request(RequestContext& context) const override {
    auto& request = context.request;
    if (cors_ && request.method() == http::verb::options &&
        !request["Access-Control-Request-Method"].empty() && !request["Origin"].empty()) {
      return preflight(context);
    }
    for (const auto& [name, value] : c_.custom_request_headers) {
      if (value.empty()) {
        request.erase(name);
      } else {
        request.set(name, value);
      }
    }
    // The security part runs inside the custom-headers part in Traefik, so it sees their edits.
    if (!c_.allowed_hosts.empty() && !c_.is_development && !host_allowed(request)) {
      // unrolled/secure's default bad-host handler.
      return Respond{
          make_response(http::status::internal_server_error, "Bad Host\n", request.version())};
    }
    return std::nullopt;
  }

  void on_response(ResponseContext& context) const override {
    auto& response = context.response;
    // Security headers first: custom response headers may override or remove them.
    if (!sts_.empty() && !c_.is_development && (c_.force_sts_header || is_ssl(context))) {
      response.set(http::field::strict_transport_security, sts_);
    }
    if (!frame_options_.empty()) response.set("X-Frame-Options", frame_options_);
    if (c_.content_type_nosniff) response.set("X-Content-Type-Options", "nosniff");
    if (!xss_.empty()) response.set("X-XSS-Protection", xss_);
    if (!c_.content_security_policy.empty()) {
      response.set("Content-Security-Policy", c_.content_security_policy);
    }
    if (!c_.content_security_policy_report_only.empty()) {
      response.set("Content-Security-Policy-Report-Only", c_.content_security_policy_report_only);
    }
    if (!c_.public_key.empty()) response.set("Public-Key-Pins", c_.public_key);
    if (!c_.referrer_policy.empty()) response.set("Referrer-Policy", c_.referrer_policy);
    if (!c_.permissions_policy.empty()) response.set("Permissions-Policy", c_.permissions_policy);

    for (const auto& [name, value] : c_.custom_response_headers) {
      if (value.empty()) {
        response.erase(name);
      } else {
        response.set(name, value);
      }
    }
    if (!cors_) return;
    if (auto origin = allowed_origin(context.request["Origin"])) {
      response.set(http::field::access_control_allow_origin, *origin);
    }
    if (c_.access_control_allow_credentials) {
      response.set(http::field::access_control_allow_credentials, "true");
    }
    if (!expose_headers_.empty()) {
      response.set(http::field::access_control_expose_headers, expose_headers_);
    }
    if (c_.add_vary_header) {
      std::string vary(response[http::field::vary]);
      if (vary != "Origin") {
        if (!vary.empty()) vary.push_back(',');
        vary.append("Origin");
        response.set(http::field::vary, vary);
      }
    }
  }

 private:
  Decision preflight(const RequestContext& context) const {
    auto response = make_response(http::status::ok, "", context.request.version());
    response.erase(http::field::content_type);
    if (c_.access_control_allow_credentials) {
      response.set(http::field::access_control_allow_credentials, "true");
    }
    if (!allow_headers_.empty()) {
      response.set(http::field::access_control_allow_headers, allow_headers_);
    }
    if (!allow_methods_.empty()) {
      response.set(http::field::access_control_allow_methods, allow_methods_);
    }
    if (auto origin = allowed_origin(context.request["Origin"])) {
      response.set(http::field::access_control_allow_origin, *origin);
    }
    response.set(http::field::access_control_max_age, std::to_string(c_.access_control_max_age));
    return Respond{std::move(response)};
  }

  /// The Access-Control-Allow-Origin value for `origin`: the list entry ("*" or the origin), or the
  /// origin itself when a regexp matches.
  std::optional<std::string> allowed_origin(std::string_view origin) const {
    for (const auto& item : c_.access_control_allow_origin_list) {
      if (item == "*" || item == origin) return item;
    }
    for (const auto& re : origin_regexes_) {
      if (re2::RE2::PartialMatch(re2::StringPiece(origin.data(), origin.size()), *re)) {
        return std::string(origin);
      }
    }
    return std::nullopt;
  }

  bool is_ssl(const ResponseContext& context) const {
    if (context.tls) return true;
    for (const auto& [name, value] : c_.ssl_proxy_headers) {
      if (context.request[name] == value) return true;
    }
    return false;
  }

  bool host_allowed(const RequestHeader& request) const {
    std::string_view host = request[http::field::host];
    for (const auto& header : c_.hosts_proxy_headers) {
      if (auto value = request[header]; !value.empty()) {
        host = value;
        break;
      }
    }
    return std::any_of(c_.allowed_hosts.begin(), c_.allowed_hosts.end(),
                       [&](const std::string& allowed) { return allowed == host; });
  }

  config::Headers c_;
  std::vector<Regex> origin_regexes_;
  bool cors_ = false;
  std::string allow_headers_;
  std::string allow_methods_;
  std::string expose_headers_;
  std::string sts_;
  std::string frame_options_;
  std::string xss_;
};

}  // namespace

Compiled make_headers(const config::Headers& c) {
  std::vector<Regex> regexes;
  for (const auto& pattern : c.access_control_allow_origin_list_regex) {
    auto re = compile_regex(pattern);
    if (auto* error = std::get_if<std::string>(&re)) return std::move(*error);
    regexes.push_back(std::move(std::get<Regex>(re)));
  }
  if (c.sts_seconds < 0) return std::string("stsSeconds must not be negative");
  return std::make_shared<const Headers>(c, std::move(regexes));
}

}  // namespace berth::middleware
