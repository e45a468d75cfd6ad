#pragma once
// Private to the proxy: a connection that is plain TCP or TLS over TCP, decided at run time (a
// client's first byte, an upstream URL's scheme), so the session code is written once for both.
// Timeouts stay on the TCP layer (beast::basic_stream), beneath TLS.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <utility>
#include <variant>

namespace berth::proxy {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

/// The worker's io_context executor itself rather than the type-erased any_io_executor, which
/// every completion handler would copy, move and destroy several times.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor>;

class Stream {
 public:
  using executor_type = Executor;
  using TlsStream = beast::ssl_stream<TcpStream>;

  explicit Stream(Socket socket) : stream_(std::in_place_type<TcpStream>, std::move(socket)) {}
  explicit Stream(net::io_context& ioc) : stream_(std::in_place_type<TcpStream>, ioc) {}

  /// Layers TLS over the connection; call before any TLS byte is exchanged.
  void start_tls(net::ssl::context& context) {
    auto plain = std::move(std::get<TcpStream>(stream_));
    stream_.emplace<TlsStream>(std::move(plain), context);
  }

  bool is_tls() const noexcept { return std::holds_alternative<TlsStream>(stream_); }
  TlsStream& tls() { return std::get<TlsStream>(stream_); }

  TcpStream& tcp_layer() noexcept {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) return tls->next_layer();
    return *std::get_if<TcpStream>(&stream_);
  }
  Socket& socket() noexcept { return tcp_layer().socket(); }
  executor_type get_executor() noexcept { return tcp_layer().get_executor(); }
  void expires_after(std::chrono::steady_clock::duration timeout) {
    tcp_layer().expires_after(timeout);
    deadline_ = true;
  }
  void expires_never() {
    tcp_layer().expires_never();
    deadline_ = false;
  }
  /// Plain TCP with no deadline for its operations: it may be written to directly.
  bool plain_without_deadline() const noexcept {
    return !deadline_ && std::holds_alternative<TcpStream>(stream_);
  }
  void cancel() { tcp_layer().cancel(); }

  template <class MutableBufferSequence, class ReadHandler>
  void async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) {
      tls->async_read_some(buffers, std::forward<ReadHandler>(handler));
    } else {
      std::get_if<TcpStream>(&stream_)->async_read_some(buffers,
                                                        std::forward<ReadHandler>(handler));
    }
  }

  template <class ConstBufferSequence, class WriteHandler>
  void async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) {
      tls->async_write_some(buffers, std::forward<WriteHandler>(handler));
    } else {
      std::get_if<TcpStream>(&stream_)->async_write_some(buffers,
                                                         std::forward<WriteHandler>(handler));
    }
  }

 private:
  std::variant<TcpStream, TlsStream> stream_;
  bool deadline_ = false;
};

/// A TLS peer that closes without close_notify ends the stream like a plain FIN.
inline bool end_of_stream(const beast::error_code& ec) {
  return ec == net::error::eof || ec == net::ssl::error::stream_truncated;
}

}  // namespace berth::proxy
