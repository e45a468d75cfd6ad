#include "tcp_front.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <thread>

namespace berth::docker::test {

namespace {

namespace net = boost::asio;
using net::ip::tcp;
using local = net::local::stream_protocol;

/// Copies bytes from `from` to `to` until either side fails, then closes both.
template <class From, class To>
net::awaitable<void> pump(std::shared_ptr<From> from, std::shared_ptr<To> to) {
  std::array<char, 16 * 1024> bytes;
  for (;;) {
    boost::system::error_code ec;
    const auto n = co_await from->async_read_some(net::buffer(bytes),
                                                  net::redirect_error(net::use_awaitable, ec));
    if (!ec) {
      co_await net::async_write(*to, net::buffer(bytes, n),
                                net::redirect_error(net::use_awaitable, ec));
    }
    if (ec) break;
  }
  boost::system::error_code ignored;
  from->lowest_layer().close(ignored);
  to->lowest_layer().close(ignored);
}

}  // namespace

struct TcpFront::Impl {
  std::string socket_path;
  std::optional<net::ssl::context> tls;
  net::io_context io;
  tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
  std::atomic<std::size_t> accepted{0};
  std::thread thread;

  net::awaitable<void> relay(tcp::socket client) {
    auto daemon = std::make_shared<local::socket>(io);
    boost::system::error_code ec;
    co_await daemon->async_connect(local::endpoint(socket_path),
                                   net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return;
    if (!tls) {
      auto plain = std::make_shared<tcp::socket>(std::move(client));
      net::co_spawn(io, pump(plain, daemon), net::detached);
      net::co_spawn(io, pump(daemon, plain), net::detached);
      co_return;
    }
    auto secure = std::make_shared<net::ssl::stream<tcp::socket>>(std::move(client), *tls);
    co_await secure->async_handshake(net::ssl::stream_base::server,
                                     net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return;
    net::co_spawn(io, pump(secure, daemon), net::detached);
    net::co_spawn(io, pump(daemon, secure), net::detached);
  }

  net::awaitable<void> accept() {
    for (;;) {
      auto client = co_await acceptor.async_accept(net::use_awaitable);
      ++accepted;
      net::co_spawn(io, relay(std::move(client)), net::detached);
    }
  }
};

TcpFront::TcpFront(std::string socket_path, std::optional<FrontTls> tls)
    : impl_(std::make_unique<Impl>()) {
  impl_->socket_path = std::move(socket_path);
  if (tls) {
    auto& context = impl_->tls.emplace(net::ssl::context::tls_server);
    context.use_certificate_chain_file(tls->cert_file);
    context.use_private_key_file(tls->key_file, net::ssl::context::pem);
    context.load_verify_file(tls->ca_file);
    context.set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
  }
  net::co_spawn(impl_->io, impl_->accept(), net::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

TcpFront::~TcpFront() {
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t TcpFront::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::size_t TcpFront::connections() const {
  return impl_->accepted.load();
}

}  // namespace berth::docker::test
