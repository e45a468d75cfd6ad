#pragma once
// Test helpers: an in-process HTTP/WebSocket backend (blocking Beast, a thread per connection) and
// a blocking client, both on 127.0.0.1 / ::1 only.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace berth::proxy::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class Backend {
 public:
  /// Fills the response (preset: 200, `X-Backend: name`, body = name). `nth` counts requests on the
  /// connection from 1. Returning false closes the connection without answering.
  using Handler = std::function<bool(const Request&, Response&, std::size_t nth)>;

  explicit Backend(std::string name, Handler handler = {});
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  std::string url() const;
  std::uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }
  Request last_request() const;
  /// Closes the listener and every open connection, as a server that received SIGTERM does; the
  /// port then refuses connections.
  void shut_down();

 private:
  void stop_accepting();
  void accept_loop();
  void serve(std::shared_ptr<tcp::socket> socket);

  std::string name_;
  Handler handler_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  Request last_;
  /// Duplicates of the connection descriptors, so shutting them down at the end never races with a
  /// serving thread closing its socket.
  std::vector<int> descriptors_;
  std::vector<std::thread> threads_;
  std::thread acceptor_thread_;
};

/// A blocking HTTPS backend answering every request with its name, recording the SNI it saw.
class TlsBackend {
 public:
  TlsBackend(std::string name, const std::string& certificate_pem, const std::string& key_pem);
  ~TlsBackend();
  TlsBackend(const TlsBackend&) = delete;
  TlsBackend& operator=(const TlsBackend&) = delete;

  std::uint16_t port() const { return port_; }
  std::string sni() const;
  int requests() const { return requests_.load(); }

 private:
  void serve();
  void serve_connection(net::ssl::stream<tcp::socket>& stream);

  std::string name_;
  net::io_context ioc_;
  net::ssl::context context_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::string sni_;
  /// Duplicates of the connection descriptors, as in Backend.
  std::vector<int> descriptors_;
  std::vector<std::thread> connections_;
  std::thread thread_;
};

/// A blocking client connection with a receive timeout, so a proxy bug fails a test instead of
/// hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port, const std::string& address = "127.0.0.1");
  Response request(const Request& request);
  void write_raw(std::string_view bytes);
  Response read();
  /// Reads until the peer closes; returns everything received.
  std::string read_all();
  /// True when the next read sees the connection closed.
  bool closed();
  tcp::socket& socket() { return socket_; }
  beast::flat_buffer& buffer() { return buffer_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

Request get(std::string target, std::string host = "app");

/// A TCP port on 127.0.0.1 with nothing listening.
std::uint16_t closed_port();

}  // namespace berth::proxy::test
