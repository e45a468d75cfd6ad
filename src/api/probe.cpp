#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>

#include "address.hpp"
#include "berth/api/server.hpp"

namespace berth::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::variant<ListenAddress, std::string> parse_listen_address(std::string_view address) {
  std::string_view text = address;
  if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    if (text.substr(slash) != "/tcp")
      return "unsupported protocol in address \"" + std::string{address} + "\"";
    text = text.substr(0, slash);
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return "address \"" + std::string{address} + "\" has no port (expected [host]:port)";
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return "address \"" + std::string{address} + "\" has an invalid port";
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  ListenAddress out;
  if (host.empty()) {
    out.any_host = true;
    out.endpoint = tcp::endpoint{net::ip::address_v6::any(), static_cast<std::uint16_t>(port)};
    return out;
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code error;
  const net::ip::address ip = net::ip::make_address(std::string{host}, error);
  if (error) return "address \"" + std::string{address} + "\": host is not an IP address";
  out.endpoint = tcp::endpoint{ip, static_cast<std::uint16_t>(port)};
  return out;
}

int probe_ping(std::string_view address, std::chrono::milliseconds timeout) {
  auto parsed = parse_listen_address(address);
  if (!std::holds_alternative<ListenAddress>(parsed)) return 1;
  ListenAddress listen = std::get<ListenAddress>(parsed);
  tcp::endpoint endpoint = listen.endpoint;
  if (listen.any_host)
    endpoint.address(net::ip::address_v4::loopback());
  else if (endpoint.address().is_unspecified()) {
    endpoint.address(endpoint.address().is_v6()
                         ? net::ip::address{net::ip::address_v6::loopback()}
                         : net::ip::address{net::ip::address_v4::loopback()});
  }

  net::io_context context;
  beast::tcp_stream stream{context};
  beast::flat_buffer buffer;
  http::request<http::empty_body> request{http::verb::get, "/ping", 11};
  request.set(http::field::host, endpoint.address().to_string());
  http::response<http::string_body> response;
  bool ok = false;

  // One deadline for the whole exchange.
  stream.expires_after(timeout);
  stream.async_connect(endpoint, [&](beast::error_code error) {
    if (error) return;
    http::async_write(stream, request, [&](beast::error_code write_error, std::size_t) {
      if (write_error) return;
      http::async_read(stream, buffer, response, [&](beast::error_code read_error, std::size_t) {
        ok = !read_error && response.result() == http::status::ok;
      });
    });
  });
  context.run();
  return ok ? 0 : 1;
}

}  // namespace berth::api
