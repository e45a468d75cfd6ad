#include "berth/proxy/forwarding.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include <array>
#include <iterator>
#include <string>

namespace berth::proxy {
namespace {

namespace beast = boost::beast;
using http::field;

// The X-Forwarded-* family Traefik removes from untrusted clients before setting its own.
constexpr std::array<std::string_view, 6> forwarded_fields = {
    "X-Forwarded-For",  "X-Forwarded-Proto",  "X-Forwarded-Host",
    "X-Forwarded-Port", "X-Forwarded-Server", "X-Real-Ip"};

bool has_token(const Fields& fields, field name, std::string_view token) {
  for (auto it = fields.find(name); it != fields.end() && it->name() == name; ++it) {
    for (auto item : http::token_list{it->value()}) {
      if (beast::iequals(item, token)) return true;
    }
  }
  return false;
}

/// The fields hop-by-hop by definition (RFC 9110 7.6.1), not counting those Connection names.
bool hop_by_hop(field name) {
  switch (name) {
    case field::connection:
    case field::keep_alive:
    case field::proxy_connection:
    case field::proxy_authenticate:
    case field::proxy_authorization:
    case field::te:
    case field::trailer:
    case field::transfer_encoding:
    case field::upgrade:
      return true;
    default:
      return false;
  }
}

/// The position of `name` in forwarded_fields, or forwarded_fields.size().
std::size_t forwarded_index(const Fields::value_type& f) {
  if (f.name() != field::unknown) return forwarded_fields.size();
  const auto name = f.name_string();
  for (std::size_t i = 0; i < forwarded_fields.size(); ++i) {
    if (beast::iequals(name, forwarded_fields[i])) return i;
  }
  return forwarded_fields.size();
}

std::string_view port_of_host(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos || close + 1 >= host.size() || host[close + 1] != ':') {
      return {};
    }
    return host.substr(close + 2);
  }
  const auto colon = host.rfind(':');
  return colon == std::string_view::npos ? std::string_view{} : host.substr(colon + 1);
}

}  // namespace

FramingError check_framing(const RequestHeader& request) {
  const auto te = request.find(field::transfer_encoding);
  if (te == request.end()) return FramingError::none;
  if (request.find(field::content_length) != request.end()) {
    return FramingError::conflicting_length;
  }
  // Only "chunked" alone is supported, like Go's net/http; a coding such as gzip would have to be
  // decoded to find the end of the body.
  std::size_t fields = 0;
  for (auto it = te; it != request.end() && it->name() == field::transfer_encoding; ++it) {
    ++fields;
    std::size_t tokens = 0;
    for (auto token : http::token_list{it->value()}) {
      ++tokens;
      if (!beast::iequals(token, "chunked")) return FramingError::unsupported_encoding;
    }
    if (tokens != 1) return FramingError::unsupported_encoding;
  }
  return fields == 1 ? FramingError::none : FramingError::unsupported_encoding;
}

std::optional<TargetParts> split_target(std::string_view target) {
  TargetParts parts;
  if (target.empty()) return std::nullopt;
  if (target.front() != '/') {
    const auto scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return std::nullopt;
    const std::string_view scheme = target.substr(0, scheme_end);
    if (!beast::iequals(scheme, "http") && !beast::iequals(scheme, "https")) return std::nullopt;
    const std::string_view rest = target.substr(scheme_end + 3);
    const auto slash = rest.find_first_of("/?");
    parts.authority = rest.substr(0, slash);
    if (parts.authority.empty()) return std::nullopt;
    // "http://host?q" has an empty path; the origin form needs "/".
    parts.origin = slash == std::string_view::npos ? std::string_view{"/"} : rest.substr(slash);
  } else {
    parts.origin = target;
  }
  const auto question = parts.origin.find('?');
  parts.path = parts.origin.substr(0, question);
  if (question != std::string_view::npos) parts.query = parts.origin.substr(question + 1);
  return parts;
}

bool is_websocket_upgrade(const RequestHeader& request) {
  return has_token(request, field::connection, "upgrade") &&
         has_token(request, field::upgrade, "websocket");
}

void strip_hop_by_hop(Fields& fields, bool keep_upgrade) {
  // Fields named by Connection are hop-by-hop too (RFC 9110 7.6.1).
  for (auto it = fields.find(field::connection);
       it != fields.end() && it->name() == field::connection; ++it) {
    for (auto token : http::token_list{it->value()}) {
      // Host is never hop-by-hop, and the caller's context may point into it.
      if (beast::iequals(token, "connection") || beast::iequals(token, "host")) continue;
      // The usual token: Keep-Alive goes with the walk below, without a lookup here.
      if (beast::iequals(token, "keep-alive")) continue;
      if (keep_upgrade && beast::iequals(token, "upgrade")) continue;
      fields.erase(token);
    }
  }
  // One walk over the fields rather than a lookup for each name.
  for (auto it = fields.begin(); it != fields.end();) {
    const field name = it->name();
    const bool kept = keep_upgrade && (name == field::connection || name == field::upgrade);
    it = hop_by_hop(name) && !kept ? fields.erase(it) : std::next(it);
  }
  if (keep_upgrade) fields.set(field::connection, "Upgrade");
}

void strip_forwarded_headers(Fields& fields) {
  for (auto name : forwarded_fields) fields.erase(name);
  for (std::string_view name :
       {"X-Forwarded-Uri", "X-Forwarded-Method", "X-Forwarded-Prefix",
        "X-Forwarded-Tls-Client-Cert", "X-Forwarded-Tls-Client-Cert-Info"}) {
    fields.erase(name);
  }
}

void prepare_upstream_request(RequestHeader& request, const ForwardContext& context,
                              ForwardedFields& forwarded) {
  // Absolute-form and origin-form both leave as origin-form; the upstream is ours, never the URL's.
  const bool has_path = !context.origin.empty() && context.origin.front() == '/';
  if (context.path_prefix.empty() && has_path) {
    request.target(context.origin);
  } else {
    // "http://h?q" has an empty path, which the origin form writes as "/".
    std::string target(context.path_prefix.empty() ? "/" : context.path_prefix);
    if (target.back() == '/' && has_path) target.pop_back();
    if (target.back() != '/' && !has_path) target.push_back('/');
    target.append(context.origin);
    request.target(target);
  }
  request.version(11);
  strip_hop_by_hop(request, context.websocket);

  // One walk: Expect goes (a 100-continue exchange is answered by the proxy itself), so do the
  // X-Forwarded-* family from untrusted clients; a trusted client's X-Forwarded-For is extended
  // and its X-Forwarded-Server replaced, the others it sent are kept.
  enum : std::size_t { xff, xf_proto, xf_host, xf_port, xf_server, x_real_ip };
  std::array<bool, forwarded_fields.size()> sent{};
  std::string& forwarded_for = forwarded.for_;
  forwarded_for.clear();
  for (auto it = request.begin(); it != request.end();) {
    if (it->name() == field::expect) {
      it = request.erase(it);
      continue;
    }
    const std::size_t index = forwarded_index(*it);
    if (index == forwarded_fields.size()) {
      ++it;
      continue;
    }
    if (context.trust_forwarded && index == xff) {
      if (!forwarded_for.empty()) forwarded_for += ", ";
      forwarded_for.append(it->value());
    }
    if (!context.trust_forwarded || index == xff || index == xf_server) {
      it = request.erase(it);
      continue;
    }
    sent[index] = true;
    ++it;
  }
  if (!forwarded_for.empty()) forwarded_for += ", ";
  forwarded_for.append(context.client_ip);
  // The host may be a view of the Host field, which is replaced below.
  forwarded.host_.assign(context.host);
  const std::string_view host = forwarded.host_;
  forwarded.count_ = 0;
  const auto add = [&](std::size_t index, std::string_view value) {
    forwarded.lines_[forwarded.count_++] = {forwarded_fields[index], value};
  };
  add(xff, forwarded_for);
  if (!sent[xf_proto]) {
    add(xf_proto,
        context.websocket ? (context.tls ? "wss" : "ws") : (context.tls ? "https" : "http"));
  }
  if (!sent[xf_host] && !host.empty()) add(xf_host, host);
  if (!sent[xf_port]) {
    std::string_view value = port_of_host(host);
    if (value.empty()) value = context.tls ? "443" : "80";
    add(xf_port, value);
  }
  if (!context.server_name.empty()) add(xf_server, context.server_name);
  if (!sent[x_real_ip]) add(x_real_ip, context.client_ip);
  if (context.pass_host_header) {
    request.set(field::host, context.host);
  } else {
    request.set(field::host, context.upstream_authority);
  }
}

}  // namespace berth::proxy
