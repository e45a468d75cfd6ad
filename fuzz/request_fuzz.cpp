// Parses the input as a request header with Beast into a field arena, as a proxy session does,
// and runs berth's
// forwarding steps on it (framing check, target split, X-Forwarded-* and hop-by-hop handling, the
// upstream rewrite, the head writer). The header sent upstream must parse again, keep the method,
// carry an origin-form target and no hop-by-hop field.

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "berth/middleware/message.hpp"
#include "berth/proxy/forwarding.hpp"
#include "wire.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using berth::proxy::FramingError;

using berth::middleware::ArenaAllocator;
using Parser = http::request_parser<http::empty_body, ArenaAllocator<char>>;

void require(bool condition) {
  if (!condition) std::abort();
}

bool parse_header(std::string_view bytes, Parser& parser) {
  parser.header_limit(16 * 1024);
  beast::error_code ec;
  parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  return !ec && parser.is_header_done();
}

void forward(std::string_view input, bool pass_host_header, bool tls) {
  berth::middleware::BlockPool blocks(berth::middleware::FieldArena::block_size, 4);
  berth::middleware::FieldArena arena(blocks);
  Parser parser(std::piecewise_construct, std::make_tuple(),
                std::make_tuple(ArenaAllocator<char>(arena)));
  if (!parse_header(input, parser)) return;
  auto& request = parser.get();
  if (berth::proxy::check_framing(request) != FramingError::none) return;
  const auto target = berth::proxy::split_target(request.target());
  if (!target) return;
  // As the session: an absolute-form authority is copied, since the target is rewritten.
  std::string host;
  if (!target->authority.empty()) {
    host = std::string(target->authority);
  } else if (auto it = request.find(http::field::host); it != request.end()) {
    host = std::string(it->value());
  }
  const std::string origin(target->origin);
  const bool websocket = berth::proxy::is_websocket_upgrade(request);
  const std::string method(request.method_string());

  berth::proxy::strip_forwarded_headers(request);
  const berth::proxy::ForwardContext context{
      "192.0.2.1",      host,  origin, "",       "10.0.0.2:8080", "berth",
      pass_host_header, false, tls,    websocket};
  berth::proxy::ForwardedFields forwarded;
  berth::proxy::prepare_upstream_request(request, context, forwarded);

  // What the session writes upstream is the head writer's output.
  std::string wire;
  berth::proxy::append_head(request.base(), forwarded.lines(), wire);
  Parser again(std::piecewise_construct, std::make_tuple(),
               std::make_tuple(ArenaAllocator<char>(arena)));
  require(parse_header(wire, again));
  const auto& sent = again.get();
  require(sent.method_string() == method);
  require(!sent.target().empty() && sent.target().front() == '/');
  require(sent.version() == 11);
  for (const auto field : {http::field::keep_alive, http::field::te, http::field::trailer,
                           http::field::transfer_encoding, http::field::proxy_connection}) {
    require(sent.find(field) == sent.end());
  }
  if (!websocket) require(sent.find(http::field::upgrade) == sent.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  forward(input, true, false);
  forward(input, false, true);
  return 0;
}
