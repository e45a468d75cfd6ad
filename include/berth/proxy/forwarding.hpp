#pragma once
// Pure header rewriting between client and upstream (no I/O): framing checks, hop-by-hop stripping,
// X-Forwarded-* as Traefik sets them, Host, origin-form targets. Used by the session and tested
// alone.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "berth/middleware/message.hpp"

namespace berth::proxy {

namespace http = boost::beast::http;
using middleware::Fields;
using middleware::RequestHeader;

enum class FramingError {
  none,
  conflicting_length,    ///< Content-Length with Transfer-Encoding, or differing lengths → 400
  unsupported_encoding,  ///< a transfer coding other than "chunked" → 501
};

/// Checks the request's message framing once its header is parsed.
FramingError check_framing(const RequestHeader& request);

/// An origin-form ("/p?q") or absolute-form ("http://h/p?q") request target.
struct TargetParts {
  std::string_view authority;  ///< empty for origin-form
  std::string_view origin;     ///< "/p?q"
  std::string_view path;       ///< "/p"
  std::string_view query;      ///< "q"
};

/// nullopt for targets the proxy does not serve (authority-form, asterisk-form, garbage).
std::optional<TargetParts> split_target(std::string_view target);

/// True for `Connection: upgrade` + `Upgrade: websocket`.
bool is_websocket_upgrade(const RequestHeader& request);

/// Removes hop-by-hop fields (Connection and the fields it names, Keep-Alive, Proxy-*, TE, Trailer,
/// Transfer-Encoding, Upgrade). With `keep_upgrade` the upgrade handshake fields stay.
void strip_hop_by_hop(Fields& fields, bool keep_upgrade);

struct ForwardContext {
  std::string_view client_ip;    ///< the peer address, without port
  std::string_view host;         ///< the request's host (Host header or absolute-form authority)
  std::string_view origin;       ///< origin-form target to send upstream
  std::string_view path_prefix;  ///< the server URL path when it is preserved
  std::string_view upstream_authority;
  std::string_view server_name;  ///< X-Forwarded-Server
  bool pass_host_header = true;
  bool trust_forwarded = false;  ///< keep the client's X-Forwarded-* (trusted source)
  bool tls = false;
  bool websocket = false;
};

/// Removes the X-Forwarded-* (and X-Real-Ip) fields an untrusted client sent, as Traefik's entry
/// point does before any middleware reads them.
void strip_forwarded_headers(Fields& fields);

struct FieldLine {
  std::string_view name;
  std::string_view value;
};

/// The X-Forwarded-* and X-Real-Ip fields a request gets on its way upstream. They are written
/// after the request's own fields instead of being inserted into them, which would cost an
/// allocation and a tree insertion each; the strings keep their capacity from request to request.
class ForwardedFields {
 public:
  std::span<const FieldLine> lines() const { return {lines_.data(), count_}; }

 private:
  friend void prepare_upstream_request(RequestHeader&, const ForwardContext&, ForwardedFields&);
  std::string for_;   ///< X-Forwarded-For's value
  std::string host_;  ///< the request's host, which Host may no longer hold
  std::array<FieldLine, 6> lines_{};
  std::size_t count_ = 0;
};

/// Rewrites a client request header in place into the one sent upstream (always HTTP/1.1), and
/// sets `forwarded` to the fields to send after it.
void prepare_upstream_request(RequestHeader& request, const ForwardContext& context,
                              ForwardedFields& forwarded);

}  // namespace berth::proxy
