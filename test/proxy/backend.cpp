#include "backend.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace berth::proxy::test {
namespace {

void set_receive_timeout(tcp::socket& socket, int seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

Backend::Backend(std::string name, Handler handler)
    : name_(std::move(name)), handler_(std::move(handler)), acceptor_(ioc_) {
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  acceptor_thread_ = std::thread([this] { accept_loop(); });
}

void Backend::stop_accepting() {
  if (!acceptor_thread_.joinable()) return;
  stopping_ = true;
  {
    // Wake the blocking accept with a connection of our own.
    net::io_context ioc;
    tcp::socket wake(ioc);
    beast::error_code ec;
    wake.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
  }
  acceptor_thread_.join();
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void Backend::shut_down() {
  stop_accepting();
  std::lock_guard lock(mutex_);
  for (int descriptor : descriptors_) ::shutdown(descriptor, SHUT_RDWR);
}

Backend::~Backend() {
  stop_accepting();
  {
    std::lock_guard lock(mutex_);
    for (int descriptor : descriptors_) ::shutdown(descriptor, SHUT_RDWR);
  }
  for (auto& thread : threads_) thread.join();
  for (int descriptor : descriptors_) ::close(descriptor);
}

std::string Backend::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

TlsBackend::TlsBackend(std::string name, const std::string& certificate_pem,
                       const std::string& key_pem)
    : name_(std::move(name)), context_(net::ssl::context::tls_server), acceptor_(ioc_) {
  context_.use_certificate_chain(net::buffer(certificate_pem));
  context_.use_private_key(net::buffer(key_pem), net::ssl::context::pem);
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { serve(); });
}

TlsBackend::~TlsBackend() {
  stopping_ = true;
  {
    net::io_context ioc;
    tcp::socket wake(ioc);
    beast::error_code ec;
    wake.connect({net::ip::make_address("127.0.0.1"), port_}, ec);
  }
  thread_.join();
  {
    std::lock_guard lock(mutex_);
    for (int descriptor : descriptors_) ::shutdown(descriptor, SHUT_RDWR);
  }
  for (auto& connection : connections_) connection.join();
  for (int descriptor : descriptors_) ::close(descriptor);
}

std::string TlsBackend::sni() const {
  std::lock_guard lock(mutex_);
  return sni_;
}

void TlsBackend::serve() {
  while (!stopping_) {
    auto stream = std::make_shared<net::ssl::stream<tcp::socket>>(ioc_, context_);
    beast::error_code ec;
    acceptor_.accept(stream->next_layer(), ec);
    if (ec || stopping_) return;
    std::lock_guard lock(mutex_);
    descriptors_.push_back(::dup(stream->next_layer().native_handle()));
    connections_.emplace_back([this, stream] { serve_connection(*stream); });
  }
}

void TlsBackend::serve_connection(net::ssl::stream<tcp::socket>& stream) {
  set_receive_timeout(stream.next_layer(), 10);
  beast::error_code ec;
  stream.handshake(net::ssl::stream_base::server, ec);
  if (!ec) {
    const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    std::lock_guard lock(mutex_);
    sni_ = name != nullptr ? name : "";
  }
  beast::flat_buffer buffer;
  while (!ec) {
    Request request;
    http::read(stream, buffer, request, ec);
    if (ec) break;
    ++requests_;
    Response response{http::status::ok, 11};
    response.body() = name_;
    response.prepare_payload();
    http::write(stream, response, ec);
  }
}

Request Backend::last_request() const {
  std::lock_guard lock(mutex_);
  return last_;
}

void Backend::accept_loop() {
  for (;;) {
    auto socket = std::make_shared<tcp::socket>(ioc_);
    beast::error_code ec;
    acceptor_.accept(*socket, ec);
    if (stopping_) return;
    if (ec) continue;
    ++connections_;
    std::lock_guard lock(mutex_);
    descriptors_.push_back(::dup(socket->native_handle()));
    threads_.emplace_back([this, socket] { serve(socket); });
  }
}

void Backend::serve(std::shared_ptr<tcp::socket> socket) {
  beast::flat_buffer buffer;
  for (std::size_t nth = 1;; ++nth) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    beast::error_code ec;
    http::read(*socket, buffer, parser, ec);
    if (ec) return;
    Request request = parser.release();
    ++requests_;
    {
      std::lock_guard lock(mutex_);
      last_ = request;
    }
    if (beast::websocket::is_upgrade(request)) {
      beast::websocket::stream<tcp::socket&> ws(*socket);
      ws.accept(request, ec);
      // Echo every message until the client closes.
      while (!ec) {
        beast::flat_buffer message;
        ws.read(message, ec);
        if (ec) break;
        ws.text(ws.got_text());
        ws.write(message.data(), ec);
      }
      return;
    }
    Response response{http::status::ok, request.version()};
    response.set("X-Backend", name_);
    response.body() = name_;
    response.keep_alive(request.keep_alive());
    if (handler_ && !handler_(request, response, nth)) {
      socket->shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    if (!response.chunked() && !response.has_content_length()) response.prepare_payload();
    http::write(*socket, response, ec);
    if (ec || !response.keep_alive()) {
      socket->shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
  }
}

Client::Client(std::uint16_t port, const std::string& address) : socket_(ioc_) {
  socket_.connect(tcp::endpoint(net::ip::make_address(address), port));
  set_receive_timeout(socket_, 10);
}

Response Client::request(const Request& request) {
  http::write(socket_, request);
  return read();
}

void Client::write_raw(std::string_view bytes) {
  net::write(socket_, net::buffer(bytes.data(), bytes.size()));
}

Response Client::read() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  http::read(socket_, buffer_, parser);
  return parser.release();
}

std::string Client::read_all() {
  std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  std::array<char, 4096> chunk{};
  for (;;) {
    beast::error_code ec;
    const std::size_t n = socket_.read_some(net::buffer(chunk), ec);
    out.append(chunk.data(), n);
    if (ec) return out;
  }
}

bool Client::closed() {
  std::array<char, 1> byte{};
  beast::error_code ec;
  socket_.read_some(net::buffer(byte), ec);
  return ec == net::error::eof || ec == net::error::connection_reset;
}

Request get(std::string target, std::string host) {
  Request request{http::verb::get, target, 11};
  request.set(http::field::host, host);
  return request;
}

std::uint16_t closed_port() {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace berth::proxy::test
