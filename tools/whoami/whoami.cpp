// berth-whoami: a small HTTP/1.1 + WebSocket backend in the spirit of traefik/whoami, used by
// berth's tests, demo and benchmarks. It reports who answered and what it received, can be told
// to be slow, fail or unhealthy, and drains in-flight requests on SIGTERM so proxy draining can be
// tested end to end. For the benchmarks it can log when each request arrived, and keep serving
// for a while after SIGTERM as an app does while the proxy in front takes it out of rotation.

#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace berth::whoami {
namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr auto idle_timeout = 60s;
constexpr auto write_timeout = 30s;
constexpr auto drain_timeout = 10s;
constexpr auto max_delay = std::chrono::milliseconds{60s};
constexpr std::size_t max_size = 64U * 1024U * 1024U;

struct Options {
  std::uint16_t port = 80;
  std::string name;
  bool log_requests = false;
  std::chrono::milliseconds drain_delay{0};
};

// What a request asks for through its query string; anything malformed is an error message.
struct Query {
  std::chrono::milliseconds delay{0};
  std::optional<unsigned> status;
  std::optional<std::size_t> size;
  std::optional<bool> set_healthy;
};

auto parse_unsigned(std::string_view text) -> std::optional<std::uint64_t> {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// "200ms", "2s", "1m" or a bare number of milliseconds.
auto parse_delay(std::string_view text) -> std::optional<std::chrono::milliseconds> {
  std::uint64_t scale = 1;
  if (text.ends_with("ms")) {
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    text.remove_suffix(1);
    scale = 1000;
  } else if (text.ends_with("m")) {
    text.remove_suffix(1);
    scale = 60'000;
  }
  auto value = parse_unsigned(text);
  if (!value || *value > static_cast<std::uint64_t>(max_delay.count()) / scale) return std::nullopt;
  return std::chrono::milliseconds{static_cast<std::int64_t>(*value * scale)};
}

auto parse_query(std::string_view query) -> std::variant<Query, std::string> {
  Query out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = pair.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "delay") {
      auto delay = parse_delay(value);
      if (!delay)
        return "bad delay '" + std::string{value} + "': want e.g. 200ms, 2s (at most 60s)";
      out.delay = *delay;
    } else if (key == "status") {
      auto status = parse_unsigned(value);
      if (!status || *status < 200 || *status > 599) {
        return "bad status '" + std::string{value} + "': want a number from 200 to 599";
      }
      out.status = static_cast<unsigned>(*status);
    } else if (key == "size") {
      auto size = parse_unsigned(value);
      if (!size || *size > max_size) {
        return "bad size '" + std::string{value} + "': want a byte count up to " +
               std::to_string(max_size);
      }
      out.size = static_cast<std::size_t>(*size);
    } else if (key == "set") {
      if (value != "ok" && value != "fail")
        return "bad set '" + std::string{value} + "': want ok or fail";
      out.set_healthy = value == "ok";
    }
  }
  return out;
}

auto local_hostname() -> std::string {
  std::array<char, 256> buffer{};
  if (gethostname(buffer.data(), buffer.size() - 1) != 0) return "unknown";
  return buffer.data();
}

// Every address of every non-loopback interface, as text.
auto interface_addresses() -> std::vector<std::string> {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (auto* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || (it->ifa_flags & IFF_LOOPBACK) != 0) continue;
    auto family = it->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    std::array<char, NI_MAXHOST> host{};
    auto length = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (getnameinfo(it->ifa_addr, static_cast<socklen_t>(length), host.data(),
                    static_cast<socklen_t>(host.size()), nullptr, 0, NI_NUMERICHOST) == 0) {
      out.emplace_back(host.data());
    }
  }
  freeifaddrs(list);
  return out;
}

auto endpoint_text(const tcp::endpoint& endpoint) -> std::string {
  auto address = endpoint.address();
  // The dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; show them as IPv4.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  auto host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

// The traefik/whoami report: who answered, and the request exactly as it arrived.
auto report(const Request& req, const std::string& hostname, const std::string& name,
            const std::string& remote) -> std::string {
  std::string body = "Hostname: " + hostname + "\nName: " + name + "\n";
  for (const auto& address : interface_addresses()) body += "IP: " + address + "\n";
  body += "RemoteAddr: " + remote + "\n";
  body += std::string{req.method_string()} + " " + std::string{req.target()} + " HTTP/" +
          std::to_string(req.version() / 10) + "." + std::to_string(req.version() % 10) + "\n";
  for (const auto& field : req) {
    body += std::string{field.name_string()} + ": " + std::string{field.value()} + "\n";
  }
  return body;
}

class Server;

// A live connection the server can ask to finish up when it is told to stop.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void drain() = 0;
};

class Server : public std::enable_shared_from_this<Server> {
 public:
  Server(net::io_context& ioc, Options options)
      : ioc_(ioc),
        acceptor_(ioc),
        signals_(ioc, SIGINT, SIGTERM),
        drain_timer_(ioc),
        hostname_(local_hostname()),
        name_(options.name.empty() ? hostname_ : std::move(options.name)),
        port_(options.port),
        log_requests_(options.log_requests),
        drain_delay_(options.drain_delay) {}

  // Binds, prints the port and starts accepting; throws at start-up only.
  void start() {
    // Dual-stack where the kernel allows it, so 127.0.0.1 and ::1 both reach us; containers often
    // have IPv6 disabled, and then IPv4 alone.
    tcp::endpoint endpoint{net::ip::address_v6::any(), port_};
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::ip::v6_only(false), ec);
    if (ec) {
      beast::error_code ignored;
      acceptor_.close(ignored);
      endpoint = tcp::endpoint{net::ip::address_v4::any(), port_};
      acceptor_.open(endpoint.protocol());
    }
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
    std::cout << "listening on :" << acceptor_.local_endpoint().port() << std::endl;
    signals_.async_wait(beast::bind_front_handler(&Server::on_signal, shared_from_this()));
    do_accept();
  }

  void track(const std::shared_ptr<Connection>& connection) {
    std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
    connections_.push_back(connection);
    ++live_;
  }

  // Called from each connection's destructor.
  void untrack() {
    --live_;
    if (draining_ && live_ == 0) finish();
  }

  auto draining() const -> bool { return draining_; }
  auto name() const -> const std::string& { return name_; }

  // "request <arrival, ns since the Unix epoch> <method> <target>", one flushed line each, so that
  // a benchmark can compare arrivals with the Docker daemon's event times (same kernel clock).
  void log_arrival(const Request& req) const {
    if (!log_requests_) return;
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    std::cout << "request " + std::to_string(now.count()) + " " + std::string{req.method_string()} +
                     " " + std::string{req.target()} + "\n"
              << std::flush;
  }

  // Pure request handling: everything but /ws, which the session upgrades itself.
  auto respond(const Request& req, const std::string& remote) -> Response {
    auto target = std::string_view{req.target()};
    auto question = target.find('?');
    auto path = target.substr(0, question);
    auto parsed = parse_query(question == std::string_view::npos ? std::string_view{}
                                                                 : target.substr(question + 1));
    Response res{http::status::ok, req.version()};
    res.set(http::field::server, "berth-whoami");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    if (const auto* error = std::get_if<std::string>(&parsed)) {
      res.result(http::status::bad_request);
      res.body() = *error + "\n";
    } else if (path == "/health" || path == "/health/ok" || path == "/health/fail") {
      health(req, path, std::get<Query>(parsed), res);
    } else {
      const auto& query = std::get<Query>(parsed);
      res.body() =
          query.size ? std::string(*query.size, 'x') : report(req, hostname_, name_, remote);
      if (query.status) res.result(*query.status);
    }
    res.prepare_payload();
    if (req.method() == http::verb::head) res.body().clear();
    return res;
  }

  // Parses only the delay, which the session needs before it answers.
  static auto delay_of(const Request& req) -> std::chrono::milliseconds {
    auto target = std::string_view{req.target()};
    auto question = target.find('?');
    if (question == std::string_view::npos) return 0ms;
    auto parsed = parse_query(target.substr(question + 1));
    const auto* query = std::get_if<Query>(&parsed);
    return query != nullptr ? query->delay : 0ms;
  }

 private:
  void health(const Request& req, std::string_view path, const Query& query, Response& res) {
    if (path == "/health") {
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.body() = "use GET /health\n";
        return;
      }
      if (query.set_healthy) healthy_ = *query.set_healthy;
    } else {
      if (req.method() != http::verb::post) {
        res.result(http::status::method_not_allowed);
        res.body() = "use POST " + std::string{path} + "\n";
        return;
      }
      healthy_ = path == "/health/ok";
    }
    res.result(healthy_ ? http::status::ok : http::status::service_unavailable);
    res.body() = healthy_ ? "ok\n" : "unhealthy\n";
  }

  void do_accept() {
    acceptor_.async_accept(beast::bind_front_handler(&Server::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket);

  void on_signal(beast::error_code ec, int /*signal*/) {
    if (ec) return;
    if (stopping_) {
      // A second signal means: stop now.
      ioc_.stop();
      return;
    }
    stopping_ = true;
    signals_.async_wait(beast::bind_front_handler(&Server::on_signal, shared_from_this()));
    if (drain_delay_ == 0ms) return drain();
    drain_timer_.expires_after(drain_delay_);
    drain_timer_.async_wait([self = shared_from_this()](beast::error_code timer_ec) {
      if (!timer_ec) self->drain();
    });
  }

  void drain() {
    draining_ = true;
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (const auto& weak : connections_) {
      if (auto connection = weak.lock()) connection->drain();
    }
    if (live_ == 0) return finish();
    drain_timer_.expires_after(drain_timeout);
    drain_timer_.async_wait([self = shared_from_this()](beast::error_code timer_ec) {
      if (!timer_ec) self->ioc_.stop();
    });
  }

  void finish() {
    signals_.cancel();
    drain_timer_.cancel();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer drain_timer_;
  std::vector<std::weak_ptr<Connection>> connections_;
  std::size_t live_ = 0;
  bool stopping_ = false;
  bool draining_ = false;
  bool healthy_ = true;
  std::string hostname_;
  std::string name_;
  std::uint16_t port_;
  bool log_requests_;
  std::chrono::milliseconds drain_delay_;
};

class WebSocketSession : public Connection, public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(tcp::socket socket, std::shared_ptr<Server> server)
      : ws_(std::move(socket)), server_(std::move(server)) {}
  ~WebSocketSession() override { server_->untrack(); }
  WebSocketSession(const WebSocketSession&) = delete;
  auto operator=(const WebSocketSession&) -> WebSocketSession& = delete;

  void run(Request req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    writing_ = true;
    ws_.async_accept(req,
                     beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
  }

  void drain() override {
    if (writing_) {
      close_after_write_ = true;
    } else {
      do_close();
    }
  }

 private:
  void on_accept(beast::error_code ec) {
    if (ec) return;
    do_write("hello from " + server_->name(), true);
  }

  void do_read() {
    ws_.async_read(buffer_,
                   beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return;
    auto text = ws_.got_text();
    auto message = server_->name() + ": " + beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    do_write(std::move(message), text);
  }

  void do_write(std::string message, bool text) {
    writing_ = true;
    out_ = std::move(message);
    ws_.text(text);
    ws_.async_write(net::buffer(out_),
                    beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    writing_ = false;
    if (ec) return;
    if (close_after_write_ || server_->draining()) return do_close();
    do_read();
  }

  void do_close() {
    writing_ = true;
    ws_.async_close(websocket::close_code::going_away,
                    [self = shared_from_this()](beast::error_code) {});
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<Server> server_;
  beast::flat_buffer buffer_;
  std::string out_;
  bool writing_ = false;
  bool close_after_write_ = false;
};

class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<Server> server)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(std::move(server)) {
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? "unknown" : endpoint_text(peer);
  }
  ~HttpSession() override { server_->untrack(); }
  HttpSession(const HttpSession&) = delete;
  auto operator=(const HttpSession&) -> HttpSession& = delete;

  void run() { do_read(); }

  // Idle connections close now; a request in progress is answered first, then the connection
  // closes.
  void drain() override {
    if (!busy_) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.close();
    }
  }

 private:
  void do_read() {
    req_ = {};
    stream_.expires_after(idle_timeout);
    http::async_read(stream_, buffer_, req_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return;
    server_->log_arrival(req_);
    auto path = std::string_view{req_.target()}.substr(0, req_.target().find('?'));
    if (path == "/ws" && websocket::is_upgrade(req_) && !server_->draining()) {
      auto ws = std::make_shared<WebSocketSession>(stream_.release_socket(), server_);
      server_->track(ws);
      ws->run(std::move(req_));
      return;
    }
    busy_ = true;
    auto delay = Server::delay_of(req_);
    if (delay == 0ms) return do_respond();
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this()](beast::error_code timer_ec) {
      if (!timer_ec) self->do_respond();
    });
  }

  // The response is built after any delay, so a drain that started meanwhile is reflected in it.
  void do_respond() {
    res_ = server_->respond(req_, remote_);
    res_.keep_alive(req_.keep_alive() && !server_->draining());
    stream_.expires_after(write_timeout);
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    busy_ = false;
    if (ec) return;
    if (!res_.keep_alive()) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    do_read();
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  std::shared_ptr<Server> server_;
  beast::flat_buffer buffer_;
  Request req_;
  Response res_;
  std::string remote_;
  bool busy_ = false;
};

void Server::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || draining_) return;
  if (!ec) {
    auto session = std::make_shared<HttpSession>(std::move(socket), shared_from_this());
    track(session);
    session->run();
  }
  do_accept();
}

// `healthcheck`: exit 0 when GET /health on localhost answers 200, for images without curl.
auto healthcheck(std::uint16_t port) -> int {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  Request req{http::verb::get, "/health", 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::connection, "close");
  beast::flat_buffer buffer;
  Response res;
  bool healthy = false;
  stream.expires_after(3s);
  stream.async_connect(
      tcp::endpoint{net::ip::address_v4::loopback(), port}, [&](beast::error_code ec) {
        if (ec) return;
        http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
          if (wec) return;
          http::async_read(stream, buffer, res, [&](beast::error_code rec, std::size_t) {
            healthy = !rec && res.result() == http::status::ok;
          });
        });
      });
  ioc.run();
  return healthy ? 0 : 1;
}

auto parse_port(std::string_view text) -> std::optional<std::uint16_t> {
  auto value = parse_unsigned(text);
  if (!value || *value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*value);
}

auto usage() -> int {
  std::cerr << "usage: berth-whoami [--port N] [--name NAME] [--log-requests] [--drain-delay D]\n"
               "       berth-whoami healthcheck [--port N]\n";
  return 2;
}

auto run(std::vector<std::string_view> args) -> int {
  bool check = !args.empty() && args.front() == "healthcheck";
  if (check) args.erase(args.begin());
  Options options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto arg = args[i];
    if (arg == "--log-requests" && !check) {
      options.log_requests = true;
      continue;
    }
    std::string_view value;
    auto eq = arg.find('=');
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      std::cerr << "berth-whoami: " << arg << " needs a value\n";
      return usage();
    }
    if (arg == "--port") {
      auto port = parse_port(value);
      if (!port) {
        std::cerr << "berth-whoami: bad --port '" << value << "': want 0 to 65535\n";
        return usage();
      }
      options.port = *port;
    } else if (arg == "--name" && !check) {
      options.name = value;
    } else if (arg == "--drain-delay" && !check) {
      auto delay = parse_delay(value);
      if (!delay) {
        std::cerr << "berth-whoami: bad --drain-delay '" << value
                  << "': want e.g. 500ms, 2s (at most 60s)\n";
        return usage();
      }
      options.drain_delay = *delay;
    } else {
      std::cerr << "berth-whoami: unknown option '" << arg << "'\n";
      return usage();
    }
  }
  if (check) return healthcheck(options.port);

  net::io_context ioc{1};
  auto port = options.port;
  auto server = std::make_shared<Server>(ioc, std::move(options));
  try {
    server->start();
  } catch (const boost::system::system_error& error) {
    std::cerr << "berth-whoami: cannot listen on port " << port << ": " << error.code().message()
              << "\n";
    return 1;
  }
  // From here on the pending handlers keep the server alive, until draining ends.
  server.reset();
  ioc.run();
  return 0;
}

}  // namespace
}  // namespace berth::whoami

auto main(int argc, char** argv) -> int {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  return berth::whoami::run(std::move(args));
}
