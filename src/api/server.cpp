#include "berth/api/server.hpp"

#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "address.hpp"
#include "berth/api/events.hpp"
#include "dashboard.hpp"

namespace berth::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view text_type = "text/plain; charset=utf-8";

/// At most this many messages wait for a slow /api/events client before it is dropped.
constexpr std::size_t event_queue_limit = 64;

Response plain(unsigned status, std::string body) {
  return Response{status, std::string{text_type}, std::move(body), {}};
}

Response method_not_allowed(const std::string& method) {
  Response response = plain(405, "method not allowed: " + method + "\n");
  response.headers.emplace_back("Allow", "GET, HEAD");
  return response;
}

Response not_found() {
  return plain(404, "404 page not found\n");
}

Response redirect(std::string location) {
  Response response = plain(302, "");
  response.headers.emplace_back("Location", std::move(location));
  return response;
}

bool readable(const std::string& method) {
  return method == "GET" || method == "HEAD";
}

/// "/" -> "", "/traefik/" -> "/traefik": the prefix every API and dashboard path starts with.
std::string normalize_base(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!base.empty() && base.front() != '/') base.insert(base.begin(), '/');
  return base;
}

std::string event_text(std::string_view event, std::uint64_t id, const nlohmann::json& data) {
  std::string out;
  if (id != 0) out += "id: " + std::to_string(id) + "\n";
  out += "event: ";
  out += event;
  out += "\ndata: ";
  out += data.dump();  // one line: dump() without indent never emits a newline
  out += "\n\n";
  return out;
}

class EventSession;

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions opts)
      : options(std::move(opts)), base(normalize_base(options.base_path)) {}

  Response respond(const std::string& method, const std::string& target, bool& events) const;
  void do_accept();
  void on_update(std::shared_ptr<const State> next, std::chrono::system_clock::time_point when);
  void broadcast(const std::shared_ptr<const std::string>& message);
  void schedule_heartbeat();
  void start_events(tcp::socket socket);
  std::shared_ptr<const State> current() const {
    auto state = published.load();
    if (state) return state;
    static const auto empty = std::make_shared<const State>();
    return empty;
  }

  const ServerOptions options;
  const std::string base;
  std::atomic<std::shared_ptr<const State>> published;
  std::atomic<bool> terminating{false};
  std::uint16_t bound_port = 0;

  // Touched only on the server's thread (or after it has been joined).
  std::size_t connections = 0;
  std::shared_ptr<const State> previous;
  std::vector<std::weak_ptr<EventSession>> event_sessions;
  std::uint64_t event_id = 0;

  // update() may race with stop(): the mutex orders posting against tearing the context down.
  std::mutex lifecycle;
  bool stopped = false;
  std::thread thread;
  // Destroyed (by stop()) before the members above, which the sessions its pending handlers own
  // still touch; the I/O objects below go before it.
  std::unique_ptr<net::io_context> context = std::make_unique<net::io_context>(1);
  std::unique_ptr<tcp::acceptor> acceptor = std::make_unique<tcp::acceptor>(*context);
  std::unique_ptr<net::steady_timer> heartbeat = std::make_unique<net::steady_timer>(*context);
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
};

namespace {

/// A client of /api/events: the socket taken over from its HTTP session, a queue of messages, and
/// a pending read that notices when the client goes away.
class EventSession : public std::enable_shared_from_this<EventSession> {
 public:
  EventSession(tcp::socket socket, std::chrono::milliseconds write_timeout)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), write_timeout_(write_timeout) {}

  void start(std::string first) {
    queue_.push_back(std::make_shared<const std::string>(std::move(first)));
    do_write();
    do_read();
  }

  void push(std::shared_ptr<const std::string> message) {
    if (closed_) return;
    if (queue_.size() >= event_queue_limit) return close();
    queue_.push_back(std::move(message));
    if (!writing_) do_write();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
  }

  bool closed() const { return closed_; }

 private:
  void do_write() {
    writing_ = true;
    // A client that stops reading must not pin the queue forever.
    timer_.expires_after(write_timeout_);
    timer_.async_wait([weak = weak_from_this()](beast::error_code error) {
      if (error) return;
      auto self = weak.lock();
      // The write may have finished and re-armed the timer after this expiry was queued.
      if (self && self->timer_.expiry() <= std::chrono::steady_clock::now()) self->close();
    });
    net::async_write(socket_, net::buffer(*queue_.front()),
                     [self = shared_from_this()](beast::error_code error, std::size_t) {
                       self->on_write(error);
                     });
  }

  void on_write(beast::error_code error) {
    timer_.cancel();
    if (error || closed_) return close();
    queue_.pop_front();
    if (queue_.empty()) {
      writing_ = false;
      return;
    }
    do_write();
  }

  void do_read() {
    socket_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code error, std::size_t) {
                              // Clients send nothing more; EOF or an error means they left.
                              if (error || self->closed_) return self->close();
                              self->do_read();
                            });
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  std::chrono::milliseconds write_timeout_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::array<char, 512> discard_{};
  bool writing_ = false;
  bool closed_ = false;
};

/// One HTTP/1.1 connection: a fresh parser with limits per request, keep-alive, a deadline on
/// every read and write.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Server::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {
    ++server_.connections;
  }
  ~HttpSession() { --server_.connections; }
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void run() { do_read(); }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_after(server_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, std::size_t) {
                       self->on_read(error);
                     });
  }

  void on_read(beast::error_code error) {
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == net::error::operation_aborted) {
      return do_close();
    }
    if (error == http::error::header_limit) return fail(431, "request header too large\n");
    if (error == http::error::body_limit) return fail(413, "request body too large\n");
    if (error) {
      // Nothing was parsed (the peer reset): close quietly; otherwise say what was wrong.
      if (buffer_.size() == 0 && !parser_->got_some()) return do_close();
      return fail(400, "malformed request: " + error.message() + "\n");
    }

    const auto& request = parser_->get();
    const std::string method{request.method_string()};
    bool events = false;
    Response response = server_.respond(method, std::string{request.target()}, events);
    if (events) return start_events();
    send(std::move(response), method == "HEAD", request.version(), request.keep_alive());
  }

  void fail(unsigned status, std::string message) {
    send(plain(status, std::move(message)), false, 11, false);
  }

  void send(Response response, bool head, unsigned version, bool keep_alive) {
    response_ = {};
    response_.version(version);
    response_.result(response.status);
    if (!response.content_type.empty())
      response_.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) response_.set(name, value);
    response_.keep_alive(keep_alive);
    const std::size_t length = response.body.size();
    if (!head) response_.body() = std::move(response.body);
    // HEAD: the GET's length, no body.
    response_.content_length(length);
    stream_.expires_after(server_.options.write_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code error, std::size_t) {
                        self->on_write(error);
                      });
  }

  void on_write(beast::error_code error) {
    if (error) return do_close();
    if (!response_.keep_alive()) return do_close();
    do_read();
  }

  void start_events() {
    stream_.expires_never();
    server_.start_events(stream_.release_socket());
  }

  void do_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  Server::Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

Response Server::Impl::respond(const std::string& method, const std::string& target,
                               bool& events) const {
  const std::string_view full{target};
  const std::string_view path = full.substr(0, full.find('?'));
  const std::string_view query = full.substr(path.size());

  if (options.ping && path == "/ping") {
    if (!readable(method)) return method_not_allowed(method);
    const unsigned status = terminating.load() ? options.ping_terminating_status : 200U;
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    return plain(status, std::string{reason});
  }
  if (options.metrics && path == "/metrics") {
    if (!readable(method)) return method_not_allowed(method);
    std::vector<MetricFamily> extra;
    if (options.metrics_source) extra = options.metrics_source();
    return Response{200, std::string{metrics_content_type}, render_metrics(*current(), extra), {}};
  }

  std::string_view rest = path;
  if (!base.empty()) {
    if (rest.substr(0, base.size()) != base) return not_found();
    rest.remove_prefix(base.size());
    if (rest.empty()) rest = "/";
    if (rest.front() != '/') return not_found();
  }

  if (options.api && rest.substr(0, 5) == "/api/") {
    if (rest == "/api/events") {
      if (!readable(method)) return method_not_allowed(method);
      if (method == "GET") events = true;
      return Response{200, "text/event-stream", "", {{"Cache-Control", "no-cache"}}};
    }
    return handle(*current(), Request{method, std::string{rest} + std::string{query}},
                  options.version);
  }
  if (options.dashboard) {
    if (rest == "/" || rest == "/dashboard") return redirect(base + "/dashboard/");
    if (rest == "/dashboard/" || rest == "/dashboard/index.html") {
      if (!readable(method)) return method_not_allowed(method);
      Response response{200, "text/html; charset=utf-8", std::string{dashboard_html()}, {}};
      response.headers.emplace_back("Cache-Control", "no-cache");
      return response;
    }
  }
  return not_found();
}

void Server::Impl::do_accept() {
  acceptor->async_accept(*context, [this](beast::error_code error, tcp::socket socket) {
    if (error == net::error::operation_aborted) return;
    if (!error) {
      if (connections >= options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<HttpSession>(*this, std::move(socket))->run();
      }
      return do_accept();
    }
    // Out of descriptors or the like: wait a little rather than spin.
    auto timer = std::make_shared<net::steady_timer>(*context, std::chrono::milliseconds{100});
    timer->async_wait([this, timer](beast::error_code wait_error) {
      if (!wait_error) do_accept();
    });
  });
}

void Server::Impl::start_events(tcp::socket socket) {
  std::erase_if(event_sessions, [](const auto& weak) {
    auto session = weak.lock();
    return !session || session->closed();
  });
  if (event_sessions.size() >= options.max_event_clients) {
    const std::string body = "too many /api/events clients\n";
    const std::string busy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    beast::error_code ignored;
    net::write(socket, net::buffer(busy), ignored);
    socket.close(ignored);
    return;
  }
  // No Content-Length and no chunking: the stream's body runs until the connection closes.
  std::string first =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\n\r\nretry: 2000\n\n";
  first += event_text("overview", 0, overview(*current()));
  auto session = std::make_shared<EventSession>(std::move(socket), options.write_timeout);
  session->start(std::move(first));
  event_sessions.push_back(session);
}

void Server::Impl::broadcast(const std::shared_ptr<const std::string>& message) {
  std::erase_if(event_sessions, [&](const auto& weak) {
    auto session = weak.lock();
    if (!session || session->closed()) return true;
    session->push(message);
    return false;
  });
}

void Server::Impl::on_update(std::shared_ptr<const State> next,
                             std::chrono::system_clock::time_point when) {
  std::shared_ptr<const State> before = std::exchange(previous, next);
  if (event_sessions.empty()) return;
  const Changes changes = diff(before ? *before : State{}, *next);
  if (changes.empty()) return;
  broadcast(std::make_shared<const std::string>(
      event_text("update", ++event_id, to_json(changes, format_time(when)))));
}

void Server::Impl::schedule_heartbeat() {
  heartbeat->expires_after(options.heartbeat);
  heartbeat->async_wait([this](beast::error_code error) {
    if (error) return;
    // A comment line: keeps proxies from timing the stream out and reveals dead clients.
    static const auto comment = std::make_shared<const std::string>(": heartbeat\n\n");
    broadcast(comment);
    schedule_heartbeat();
  });
}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto parsed = parse_listen_address(impl_->options.address);
  if (const auto* message = std::get_if<std::string>(&parsed)) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument), *message);
  }
  const ListenAddress& listen = std::get<ListenAddress>(parsed);
  tcp::acceptor& acceptor = *impl_->acceptor;
  beast::error_code error;
  const auto open = [&](const tcp::endpoint& endpoint) {
    error = {};
    if (acceptor.is_open()) acceptor.close(error);
    acceptor.open(endpoint.protocol(), error);
    if (error) return;
    acceptor.set_option(net::socket_base::reuse_address(true), error);
    // ":8080" binds "::" and takes IPv4 too.
    if (endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
      acceptor.set_option(net::ip::v6_only(false), error);
    }
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(net::socket_base::max_listen_connections, error);
  };
  open(listen.endpoint);
  if (error && listen.any_host) {
    // No IPv6 on this host: every IPv4 interface then.
    open(tcp::endpoint{net::ip::address_v4::any(), listen.endpoint.port()});
  }
  if (error) {
    throw std::system_error(error, "api: cannot listen on " + impl_->options.address);
  }
  impl_->bound_port = acceptor.local_endpoint().port();
}

Server::~Server() {
  stop();
}

void Server::start() {
  std::lock_guard lock{impl_->lifecycle};
  if (impl_->stopped || impl_->thread.joinable()) return;
  impl_->work.emplace(impl_->context->get_executor());
  net::post(*impl_->context, [impl = impl_.get()] {
    impl->do_accept();
    impl->schedule_heartbeat();
  });
  impl_->thread = std::thread{[impl = impl_.get()] { impl->context->run(); }};
}

void Server::stop() {
  std::lock_guard lock{impl_->lifecycle};
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->context->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The thread is gone: tear down on this one. Destroying the context destroys the pending
  // handlers and with them every session and its socket.
  impl_->work.reset();
  impl_->heartbeat.reset();
  impl_->acceptor.reset();
  impl_->context.reset();
  impl_->event_sessions.clear();
}

std::uint16_t Server::port() const noexcept {
  return impl_->bound_port;
}

void Server::update(std::shared_ptr<const State> state) {
  if (!state) return;
  const auto when = std::chrono::system_clock::now();
  impl_->published.store(state);
  std::lock_guard lock{impl_->lifecycle};
  if (impl_->stopped) return;
  net::post(*impl_->context, [impl = impl_.get(), state = std::move(state), when]() mutable {
    impl->on_update(std::move(state), when);
  });
}

void Server::begin_shutdown() noexcept {
  impl_->terminating.store(true);
}

}  // namespace berth::api
