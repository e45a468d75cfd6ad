// forwardAuth: the chain builds the request to the auth server, the proxy sends it, the chain reads
// the answer: 2xx lets the request through with the chosen auth headers copied onto it, anything
// else goes back to the client as the auth server sent it.

#include <algorithm>
#include <variant>

#include "middleware.hpp"
#include "regex.hpp"

namespace berth::middleware {
namespace {

using Regex = std::shared_ptr<const re2::RE2>;

constexpr std::string_view hop_by_hop[] = {
    "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
    "Te",         "Trailer",    "Transfer-Encoding",  "Upgrade"};

/// Removes Connection, the fields it names, and the other hop-by-hop fields.
template <class Allocator>
void remove_hop_by_hop(http::basic_fields<Allocator>& fields) {
  for (auto it = fields.find(http::field::connection); it != fields.end();
       it = fields.find(http::field::connection)) {
    std::string_view names = it->value();
    while (!names.empty()) {
      const auto comma = names.find(',');
      const auto name = trim(names.substr(0, comma));
      if (!name.empty()) fields.erase(name);
      names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
    }
    fields.erase(it);
  }
  for (const auto name : hop_by_hop) fields.erase(name);
}

struct Address {
  std::string scheme_authority;  ///< "http://auth:9000"
  std::string authority;
  std::string target;  ///< "/verify?x=1"
};

std::optional<Address> parse_address(std::string_view url) {
  std::size_t scheme_end = std::string_view::npos;
  if (url.starts_with("http://")) scheme_end = 7;
  if (url.starts_with("https://")) scheme_end = 8;
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const auto path = url.find_first_of("/?#", scheme_end);
  Address address;
  address.authority = std::string(url.substr(scheme_end, path - scheme_end));
  if (address.authority.empty()) return std::nullopt;
  address.scheme_authority = std::string(url.substr(0, path));
  std::string target(path == std::string_view::npos ? "" : url.substr(path));
  if (const auto hash = target.find('#'); hash != std::string::npos) target.resize(hash);
  address.target = target.empty() || target.front() != '/' ? "/" + target : target;
  return address;
}

class ForwardAuth final : public Middleware {
 public:
  ForwardAuth(const config::ForwardAuth& c, Address address, Regex response_regex)
      : c_(c), address_(std::move(address)), response_regex_(std::move(response_regex)) {}

  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto& request = context.request;
    ForwardAuthCall call;
    call.url = c_.address;
    call.tls = c_.tls ? &*c_.tls : nullptr;
    auto& out = call.request;
    out.version(11);
    if (c_.preserve_request_method) {
      out.method_string(request.method_string());
    } else {
      out.method(http::verb::get);
    }
    out.target(address_.target);
    for (const auto& field : request) {
      if (!c_.auth_request_headers.empty() &&
          std::none_of(
              c_.auth_request_headers.begin(), c_.auth_request_headers.end(),
              [&](const std::string& name) { return iequals(name, field.name_string()); })) {
        continue;
      }
      out.insert(field.name_string(), field.value());
    }
    remove_hop_by_hop(out);
    // The auth request has no body, and its own Host.
    out.erase(http::field::content_length);
    out.erase(http::field::host);
    out.set(http::field::host, address_.authority);

    const bool trust = c_.trust_forward_header;
    std::string xff(context.client_ip);
    if (trust) {
      std::string prior;
      for (auto [it, end] = request.equal_range("X-Forwarded-For"); it != end; ++it) {
        if (!prior.empty()) prior += ", ";
        prior.append(it->value());
      }
      if (!prior.empty()) xff = prior + ", " + xff;
    }
    if (!context.client_ip.empty()) {
      out.set("X-Forwarded-For", xff);
    } else {
      out.erase("X-Forwarded-For");
    }
    auto forward = [&](std::string_view name, std::string_view own) {
      if (auto value = request[name]; trust && !value.empty()) {
        out.set(name, value);
      } else if (!own.empty()) {
        out.set(name, own);
      } else {
        out.erase(name);
      }
    };
    forward("X-Forwarded-Method", request.method_string());
    forward("X-Forwarded-Proto", context.tls ? "https" : "http");
    forward("X-Forwarded-Host", request[http::field::host]);
    const auto target = split_target(request.target());
    const std::string uri =
        std::string(target.path.empty() ? "/" : target.path) + std::string(target.query);
    forward("X-Forwarded-Uri", uri);
    return Decision{std::move(call)};
  }

  std::optional<Decision> on_auth_response(
      RequestContext& context, const http::response<http::string_body>& auth) const override {
    const unsigned status = auth.result_int();
    if (status < 200 || status >= 300) return deny(context, auth);
    auto& request = context.request;
    for (const auto& name : c_.auth_response_headers) {
      request.erase(name);
      for (auto [it, end] = auth.equal_range(name); it != end; ++it) {
        request.insert(name, it->value());
      }
    }
    if (response_regex_) {
      auto matches = [&](std::string_view name) {
        return re2::RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), *response_regex_);
      };
      for (auto it = request.begin(); it != request.end();) {
        it = matches(it->name_string()) ? request.erase(it) : std::next(it);
      }
      for (const auto& field : auth) {
        if (matches(field.name_string())) request.insert(field.name_string(), field.value());
      }
    }
    if (c_.add_auth_cookies_to_response) {
      for (auto [it, end] = auth.equal_range(http::field::set_cookie); it != end; ++it) {
        context.state.response_cookies.emplace_back(it->value());
      }
    }
    return std::nullopt;
  }

  void on_response(ResponseContext& context) const override {
    const auto& cookies = context.state.response_cookies;
    if (cookies.empty()) return;
    auto& response = context.response;
    // The auth server's cookies replace the backend's of the same name.
    for (auto it = response.begin(); it != response.end();) {
      const bool replaced =
          it->name() == http::field::set_cookie &&
          std::any_of(cookies.begin(), cookies.end(), [&](const std::string& cookie) {
            return cookie_name(cookie) == cookie_name(it->value());
          });
      it = replaced ? response.erase(it) : std::next(it);
    }
    for (const auto& cookie : cookies) response.insert(http::field::set_cookie, cookie);
  }

 private:
  static std::string_view cookie_name(std::string_view set_cookie) {
    return trim(set_cookie.substr(0, set_cookie.find('=')));
  }

  Decision deny(const RequestContext& context,
                const http::response<http::string_body>& auth) const {
    StringResponse response{auth.result(), context.request.version()};
    for (const auto& field : auth) response.insert(field.name_string(), field.value());
    remove_hop_by_hop(response);
    response.erase(http::field::content_length);
    if (auto location = auth[http::field::location];
        !location.empty() && !c_.preserve_location_header) {
      response.set(http::field::location, resolve(location));
    }
    response.body() = auth.body();
    response.prepare_payload();
    return Respond{std::move(response)};
  }

  /// Go's Response.Location(): a relative Location is resolved against the auth address.
  std::string resolve(std::string_view location) const {
    if (location.find("://") != std::string_view::npos) return std::string(location);
    if (location.starts_with("//")) {
      return address_.scheme_authority.substr(0, address_.scheme_authority.find(':') + 1) +
             std::string(location);
    }
    if (location.starts_with('/')) return address_.scheme_authority + std::string(location);
    const auto path = address_.target.substr(0, address_.target.find('?'));
    return address_.scheme_authority + path.substr(0, path.rfind('/') + 1) + std::string(location);
  }

  config::ForwardAuth c_;
  Address address_;
  Regex response_regex_;
};

}  // namespace

Compiled make_forward_auth(const config::ForwardAuth& c) {
  auto address = parse_address(c.address);
  if (!address) return "invalid address \"" + c.address + "\": expected an http(s) URL";
  if (c.forward_body) return std::string("forwardBody is not supported");
  Regex regex;
  if (!c.auth_response_headers_regex.empty()) {
    auto compiled = compile_regex(c.auth_response_headers_regex);
    if (auto* error = std::get_if<std::string>(&compiled)) {
      return "authResponseHeadersRegex: " + *error;
    }
    regex = std::move(std::get<Regex>(compiled));
  }
  return std::make_shared<const ForwardAuth>(c, std::move(*address), std::move(regex));
}

}  // namespace berth::middleware
