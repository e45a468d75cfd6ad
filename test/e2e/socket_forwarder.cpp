#include "socket_forwarder.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <thread>

namespace berth::e2e {

namespace net = boost::asio;
using unix_socket = net::local::stream_protocol;

namespace {

/// One forwarded connection: two sockets and a pump in each direction. When either side ends,
/// both close, so the peer of each sees the end too.
class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  Tunnel(unix_socket::socket client, unix_socket::socket upstream)
      : client_(std::move(client)), upstream_(std::move(upstream)) {}

  void start() {
    pump(client_, upstream_, to_upstream_);
    pump(upstream_, client_, to_client_);
  }

 private:
  using Buffer = std::array<char, 16 * 1024>;

  void pump(unix_socket::socket& from, unix_socket::socket& to, Buffer& buffer) {
    from.async_read_some(
        net::buffer(buffer), [this, self = shared_from_this(), &from, &to, &buffer](
                                 boost::system::error_code ec, std::size_t got) {
          if (ec) return close();
          net::async_write(
              to, net::buffer(buffer, got),
              [this, self, &from, &to, &buffer](boost::system::error_code write_ec, std::size_t) {
                if (write_ec) return close();
                pump(from, to, buffer);
              });
        });
  }

  void close() {
    boost::system::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
  }

  unix_socket::socket client_;
  unix_socket::socket upstream_;
  Buffer to_upstream_{};
  Buffer to_client_{};
};

}  // namespace

struct UnixSocketForwarder::State {
  net::io_context ioc{1};
  unix_socket::acceptor acceptor{ioc};
  std::string listen_path;
  std::string target_path;
  std::thread thread;

  void do_accept() {
    acceptor.async_accept([this](boost::system::error_code ec, unix_socket::socket client) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) {
        unix_socket::socket upstream(ioc);
        boost::system::error_code connect_ec;
        upstream.connect(unix_socket::endpoint(target_path), connect_ec);
        // Refused upstream: the client sees its connection closed, as with no daemon.
        if (!connect_ec) {
          std::make_shared<Tunnel>(std::move(client), std::move(upstream))->start();
        }
      }
      do_accept();
    });
  }
};

UnixSocketForwarder::UnixSocketForwarder(const std::string& listen_path,
                                         const std::string& target_path)
    : state_(std::make_unique<State>()) {
  state_->listen_path = listen_path;
  state_->target_path = target_path;
  ::unlink(listen_path.c_str());
  state_->acceptor.open();
  state_->acceptor.bind(unix_socket::endpoint(listen_path));
  // berth in a container may run as another user than the test.
  ::chmod(listen_path.c_str(), 0666);
  state_->acceptor.listen();
  state_->do_accept();
  state_->thread = std::thread([state = state_.get()] { state->ioc.run(); });
}

UnixSocketForwarder::~UnixSocketForwarder() {
  state_->ioc.stop();
  state_->thread.join();
  ::unlink(state_->listen_path.c_str());
}

}  // namespace berth::e2e
