// One client connection: read a request, route it on the worker's current snapshot, forward it to a
// pooled upstream connection streaming both bodies through a fixed buffer (the async form of
// Beast's relay example), then the next request; or, after a 101, a raw WebSocket tunnel.

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/container/static_vector.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <span>
#include <utility>

#include <sys/socket.h>
#include <sys/uio.h>

#include "berth/middleware/chain.hpp"
#include "berth/proxy/forwarding.hpp"
#include "observer.hpp"
#include "wire.hpp"
#include "worker.hpp"

namespace berth::proxy {
namespace {

using http::field;

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

/// Enough for most ClientHellos; the handshake reads the rest itself.
constexpr std::size_t first_read_size = 2048;
/// How long a closing TLS connection waits for the client's close_notify.
constexpr std::chrono::seconds tls_shutdown_timeout{1};

void expire(Stream& stream, std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) {
    stream.expires_after(timeout);
  } else {
    stream.expires_never();
  }
}

bool idempotent(http::verb method) {
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
    case http::verb::put:
    case http::verb::delete_:
      return true;
    default:
      return false;
  }
}

/// Errors where a reused keep-alive connection was closed by the server before it saw the request.
bool stale_connection_error(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || end_of_stream(ec) ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

std::uint32_t clamp32(std::size_t value) {
  return static_cast<std::uint32_t>(
      std::min<std::size_t>(value, std::numeric_limits<std::uint32_t>::max()));
}

/// Sends what the socket takes without waiting: the bytes sent, 0 when it would block or failed
/// (the asynchronous write that follows then reports the failure).
std::size_t send_now(Socket& socket, std::span<const net::const_buffer> pieces) {
  constexpr int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
  ssize_t sent = 0;
  if (pieces.size() == 1) {
    sent = ::send(socket.native_handle(), pieces[0].data(), pieces[0].size(), flags);
  } else {
    std::array<iovec, 5> vectors{};
    const std::size_t count = std::min(pieces.size(), vectors.size());
    for (std::size_t i = 0; i < count; ++i) {
      vectors[i] = {const_cast<void*>(pieces[i].data()), pieces[i].size()};
    }
    msghdr message{};
    message.msg_iov = vectors.data();
    message.msg_iovlen = count;
    sent = ::sendmsg(socket.native_handle(), &message, flags);
  }
  return sent > 0 ? static_cast<std::size_t>(sent) : 0;
}

/// How long a forwardAuth call may take in all, and how much of its answer is read.
constexpr std::chrono::seconds auth_timeout{30};
constexpr std::uint64_t auth_body_limit = 1 << 20;

/// Where a forwardAuth address points.
struct AuthAddress {
  std::string host;
  std::string port;
  bool tls = false;
};

std::optional<AuthAddress> parse_auth_address(std::string_view url) {
  AuthAddress out;
  if (url.starts_with("https://")) {
    out.tls = true;
  } else if (!url.starts_with("http://")) {
    return std::nullopt;
  }
  const auto target = split_target(url);
  if (!target || target->authority.empty()) return std::nullopt;
  std::string_view authority = target->authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    if (authority.size() > close + 1) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  return out;
}

/// One forwardAuth request on its own connection.
struct AuthExchange {
  explicit AuthExchange(net::io_context& ioc) : stream(ioc), resolver(ioc) {}
  Stream stream;
  tcp::resolver resolver;
  beast::flat_buffer buffer;
  http::request<http::empty_body> request;
  http::response_parser<http::string_body> parser;
};

/// The host of a Host header without its port ("[::1]:80" -> "[::1]").
std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.rfind(':'));
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Worker& worker, std::size_t entry_point, Socket socket)
      : worker_(worker),
        entry_point_(entry_point),
        options_(worker.options().entry_points[entry_point]),
        tls_store_(worker.tls()),
        client_(std::move(socket)),
        client_buffer_(worker.acquire_read_buffer()) {
    worker_.add(this);
    count_connection(1);
  }
  ~Session() {
    // A session cut short (handlers dropped at a stop, a tunnel still open) still ends its request.
    observe_end();
    if (const auto* request = held_request()) {
      observer_.end_tunnel(worker_, *request, client_ip_, client_.is_tls());
    }
    release_buffers();
    if (client_buffer_.size() == 0) worker_.release_read_buffer(std::move(client_buffer_));
    count_connection(-1);
    worker_.remove(this);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run() {
    beast::error_code ec;
    auto remote = client_.socket().remote_endpoint(ec);
    if (!ec) {
      auto address = remote.address();
      if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
      }
      client_ip_ = address.to_string();
      client_address_ = rules::IpAddress::parse(client_ip_);
      observer_.client_port = remote.port();
    }
    client_.socket().set_option(tcp::no_delay(true), ec);
    detect_tls();
  }

  void close_if_idle() {
    if (idle_) client_.cancel();
  }

  void close_if_idle_expired(std::chrono::steady_clock::time_point now) {
    if (idle_ && idle_deadline_ <= now) client_.cancel();
  }

 private:
  // ---------------------------------------------------------------------------------------------
  // TLS or plain: one port serves both, told apart by the first byte.

  void detect_tls() {
    idle_ = true;
    expire(client_, options_.read_timeout);
    client_.async_read_some(
        client_buffer_.prepare(first_read_size),
        beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    idle_ = false;
    if (ec) return do_close();
    client_buffer_.commit(n);
    // A TLS connection starts with a handshake record (content type 22); no HTTP method does.
    constexpr unsigned char tls_handshake = 0x16;
    const auto* first = static_cast<const unsigned char*>(client_buffer_.data().data());
    if (n == 0 || first[0] != tls_handshake || !tls_store_) return do_read_header();
    client_.start_tls(tls_store_->context());
    tls_store_->attach(client_.tls().native_handle(), &worker_.options_selector(entry_point_));
    client_.tls().async_handshake(
        net::ssl::stream_base::server, client_buffer_.data(),
        beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec, std::size_t used) {
    if (ec) return do_close();
    client_buffer_.consume(used);
    // Without 0-RTT a client sends nothing more before the handshake ends.
    if (client_buffer_.size() > 0) return do_close();
    do_read_header();
  }

  // ---------------------------------------------------------------------------------------------
  // Client request

  void do_read_header() {
    // A plain connection waits for its next request without a pooled read buffer, so an idle
    // keep-alive connection costs little more than its socket. TLS may hold bytes above the socket
    // already.
    if (requests_ > 0 && client_buffer_.size() == 0 && !client_.is_tls()) {
      return wait_for_request();
    }
    read_request_header();
  }

  void wait_for_request() {
    idle_ = true;
    drop_messages();
    worker_.release_read_buffer(std::move(client_buffer_));
    // The worker's sweep closes the connection past this.
    if (options_.idle_timeout.count() > 0) {
      idle_deadline_ = std::chrono::steady_clock::now() + options_.idle_timeout;
    }
    // A read, not a readiness wait: Asio re-arms epoll (one more system call) for every wait,
    // while a read after an exhausted one just queues. A small request arrives whole here.
    client_.socket().async_read_some(
        net::buffer(request_start_),
        net::bind_allocator(
            IdleWaitAllocator<void>(worker_.idle_wait_blocks),
            beast::bind_front_handler(&Session::on_request_arriving, shared_from_this())));
  }

  void on_request_arriving(beast::error_code ec, std::size_t n) {
    idle_ = false;
    idle_deadline_ = std::chrono::steady_clock::time_point::max();
    if (ec) return do_close();
    client_buffer_ = worker_.acquire_read_buffer();
    client_buffer_.commit(
        net::buffer_copy(client_buffer_.prepare(n), net::buffer(request_start_, n)));
    read_request_header();
  }

  /// The request whose access log line waits for the end of a tunnel, or null before one.
  const middleware::RequestHeader* held_request() const {
    if (tunnel_request_) return &*tunnel_request_;
    return req_parser_ ? &req_parser_->get().base() : nullptr;
  }

  /// Ends the previous exchange's messages and frees their fields.
  void drop_messages() {
    res_parser_.reset();
    req_parser_.reset();
    arena_.reset();
  }

  void read_request_header() {
    drop_messages();
    req_parser_.emplace(std::piecewise_construct, std::make_tuple(),
                        std::make_tuple(middleware::ArenaAllocator<char>(arena_)));
    req_parser_->header_limit(clamp32(worker_.options().max_header_bytes));
    req_parser_->body_limit(boost::none);
    // A TLS connection waits for its next request here, under the idle timeout; otherwise a
    // request has begun and must arrive within the read timeout.
    idle_ = client_.is_tls() && requests_ > 0 && client_buffer_.size() == 0;
    expire(client_, idle_ ? options_.idle_timeout : options_.read_timeout);
    http::async_read_header(
        client_, client_buffer_, *req_parser_,
        beast::bind_front_handler(&Session::on_read_header, shared_from_this()));
  }

  void on_read_header(beast::error_code ec, std::size_t) {
    idle_ = false;
    if (ec == http::error::header_limit) {
      return send_server_error(http::status::request_header_fields_too_large,
                               "431 Request Header Fields Too Large");
    }
    if (ec) {
      // A parse error answers 400 the way Go's server does; a closed or timed-out socket just ends.
      if (ec.category() == beast::http::make_error_code(http::error::bad_method).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return send_server_error(http::status::bad_request, "400 Bad Request");
      }
      return do_close();
    }
    ++requests_;
    retried_ = false;
    auto& request = req_parser_->get();
    observer_.begin(worker_, entry_point_, request);

    const auto field_count =
        static_cast<std::size_t>(std::distance(request.begin(), request.end()));
    if (field_count > worker_.options().max_header_count) {
      return send_server_error(http::status::request_header_fields_too_large,
                               "431 Request Header Fields Too Large");
    }
    switch (check_framing(request)) {
      case FramingError::conflicting_length:
        return send_server_error(http::status::bad_request, "400 Bad Request");
      case FramingError::unsupported_encoding:
        return send_server_error(http::status::not_implemented, "Unsupported transfer encoding");
      case FramingError::none:
        break;
    }
    // The parser's flags, not a lookup and a token scan of Connection in the fields.
    keep_alive_ = req_parser_->keep_alive() && !worker_.draining();
    http10_ = request.version() < 11;

    auto target = split_target(request.target());
    if (!target) return send_server_error(http::status::bad_request, "400 Bad Request");
    std::string_view host;
    if (!target->authority.empty()) {
      // Absolute-form: the authority is the host. It is copied because the target is rewritten.
      host_storage_.assign(target->authority);
      host = host_storage_;
    } else if (auto it = request.find(field::host); it != request.end()) {
      host = it->value();
    } else if (!http10_) {
      return send_server_error(http::status::bad_request,
                               "400 Bad Request: missing required Host header");
    }

    header_views_.clear();
    for (const auto& f : request) header_views_.push_back({f.name_string(), f.value()});
    const rules::RequestView view{request.method_string(), host,          target->path,
                                  target->query,           header_views_, client_address_};

    WorkerState& state = worker_.state();
    // Routers with tls answer only on TLS connections, the others only on plain ones.
    const auto& tables = client_.is_tls() ? state.tls_tables : state.tables;
    const runtime::RouteTable* table =
        entry_point_ < tables.size() ? tables[entry_point_] : nullptr;
    const runtime::Route* route = table != nullptr ? table->match(view) : nullptr;
    if (options_.redirect && !client_.is_tls() &&
        (route == nullptr || route->priority <= options_.redirect->priority)) {
      return send_redirect(request.method(), host, target->origin);
    }
    if (client_.is_tls() && misdirected(host)) {
      return send_error(http::status::misdirected_request, "Misdirected Request\n", true);
    }
    if (route == nullptr) {
      return send_error(http::status::not_found, "404 page not found\n", true);
    }
    observer_.route(worker_, route->name, state.snapshot->services[route->service].name);
    websocket_ = is_websocket_upgrade(request);
    expect_continue_ = beast::iequals(request[field::expect], "100-continue");
    head_ = request.method() == http::verb::head;
    has_body_ = !req_parser_->is_done();
    retry_allowed_ = idempotent(request.method()) && !has_body_;
    if (route->chain) {
      // The chain may rewrite the target and headers the views point into.
      if (host.data() != host_storage_.data()) host_storage_.assign(host);
      snapshot_ = state.snapshot;
      return run_chain(*route);
    }

    pick_ = state.balancer->pick(route->service, view);
    if (pick_.server == nullptr) return send_no_server(state.snapshot->services[route->service]);
    // The request keeps this snapshot (and so its server and cookie data) until it ends.
    snapshot_ = state.snapshot;
    forward(host, target->origin);
  }

  /// Rewrites the request for the picked server and sends it.
  void forward(std::string_view host, std::string_view origin) {
    auto& request = req_parser_->get();
    const ForwardContext context{
        client_ip_, host, origin, pick_.server->path_prefix, pick_.server->authority,
        worker_.server_name(), pick_.service->pass_host_header,
        // With a chain they were stripped before it ran; the ones it set stay.
        options_.trust_forwarded_headers || chain_ != nullptr, client_.is_tls(), websocket_};
    prepare_upstream_request(request, context, forwarded_);
    if (buffered_ && has_body_) {
      request.content_length(buffered_body_.size());
    } else if (has_body_ && req_parser_->chunked()) {
      // Transfer-Encoding was stripped as hop-by-hop; this hop frames the body again.
      request.chunked(true);
    }
    connect_upstream();
  }

  // ---------------------------------------------------------------------------------------------
  // Middlewares (only for routes with a chain)

  void run_chain(const runtime::Route& route) {
    // The factory in berth::middleware is the only one that makes chains.
    chain_ = static_cast<const middleware::Chain*>(route.chain.get());
    service_ = route.service;
    auto& request = req_parser_->get();
    if (!options_.trust_forwarded_headers) strip_forwarded_headers(request);
    chain_state_.emplace();
    auto context = request_context();
    on_decision(chain_->on_request(context));
  }

  middleware::RequestContext request_context() {
    return {req_parser_->get().base(), client_ip_, client_.is_tls(), *chain_state_};
  }

  void on_decision(middleware::Decision decision) {
    if (auto* proceed = std::get_if<middleware::Proceed>(&decision)) {
      if (proceed->delay.count() <= 0) return chain_forward();
      auto& timer = this->timer();
      timer.expires_after(proceed->delay);
      return timer.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->do_close();
        self->chain_forward();
      });
    }
    if (auto* respond = std::get_if<middleware::Respond>(&decision)) {
      return send_chain_response(std::move(respond->response));
    }
    if (auto* call = std::get_if<middleware::ForwardAuthCall>(&decision)) {
      return forward_auth(std::move(*call));
    }
    buffer_request_body(std::get<middleware::BufferBody>(decision));
  }

  /// The chain let the request through: pick a server on the request as the chain left it.
  void chain_forward() {
    auto& request = req_parser_->get();
    const auto target = split_target(request.target());
    if (!target) return send_error(http::status::bad_request, "400 Bad Request", false);
    header_views_.clear();
    for (const auto& f : request) header_views_.push_back({f.name_string(), f.value()});
    const rules::RequestView view{request.method_string(), host_storage_, target->path,
                                  target->query,           header_views_, client_address_};
    WorkerState& state = worker_.state();
    if (state.balancer && state.snapshot == snapshot_) {
      pick_ = state.balancer->pick(service_, view);
    } else {
      // A new snapshot arrived while the chain waited; this request stays on its own.
      runtime::Balancer balancer(snapshot_);
      pick_ = balancer.pick(service_, view);
    }
    if (pick_.server == nullptr) return send_no_server(snapshot_->services[service_]);
    retry_allowed_ = idempotent(request.method()) && (!has_body_ || buffered_);
    forward(host_storage_, target->origin);
  }

  /// A middleware answered (redirect, 401, 403, 429, CORS preflight...).
  void send_chain_response(middleware::StringResponse response) {
    auto& out = error_response_.emplace(std::move(response));
    out.version(11);
    middleware::ResponseContext context{out.base(), req_parser_->get().base(), *chain_state_,
                                        client_.is_tls()};
    chain_->on_response(context);
    if (auto& compressor = chain_state_->compressor) {
      std::string body;
      compressor->write(out.body(), body);
      compressor->finish(body);
      compressor->apply_headers(out.base());
      out.body() = std::move(body);
    }
    end_request();
    write_local_response();
  }

  net::steady_timer& timer() {
    if (!timer_) timer_.emplace(worker_.context());
    return *timer_;
  }

  // forwardAuth: the auth server's answer decides (2xx: go on; otherwise it is relayed).

  void forward_auth(middleware::ForwardAuthCall call) {
    auto address = parse_auth_address(call.url);
    if (!address) return auth_failed();
    auth_ = std::make_unique<AuthExchange>(worker_.context());
    auth_->request = std::move(call.request);
    auth_->request.keep_alive(false);
    auth_->parser.body_limit(auth_body_limit);
    auth_->parser.header_limit(clamp32(worker_.options().max_header_bytes));
    auth_->stream.expires_after(auth_timeout);
    if (address->tls) {
      auth_->stream.start_tls(worker_.upstream_tls());
      auto& tls = auth_->stream.tls();
      if (!tls::set_server_name(tls.native_handle(), address->host)) return auth_failed();
      if (call.tls != nullptr && call.tls->insecure_skip_verify) {
        tls.set_verify_mode(net::ssl::verify_none);
      } else {
        tls.set_verify_mode(net::ssl::verify_peer);
        tls.set_verify_callback(net::ssl::host_name_verification(address->host));
      }
    }
    const bool tls = address->tls;
    auth_->resolver.async_resolve(
        address->host, address->port,
        [self = shared_from_this(), tls](beast::error_code ec,
                                         const tcp::resolver::results_type& results) {
          if (ec) return self->auth_failed();
          self->auth_->stream.tcp_layer().async_connect(
              results, [self, tls](beast::error_code error, const tcp::endpoint&) {
                if (error) return self->auth_failed();
                if (!tls) return self->auth_send();
                self->auth_->stream.tls().async_handshake(net::ssl::stream_base::client,
                                                          [self](beast::error_code e) {
                                                            if (e) return self->auth_failed();
                                                            self->auth_send();
                                                          });
              });
        });
  }

  void auth_send() {
    http::async_write(auth_->stream, auth_->request,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->auth_failed();
                        http::async_read(self->auth_->stream, self->auth_->buffer,
                                         self->auth_->parser,
                                         [self](beast::error_code error, std::size_t) {
                                           if (error) return self->auth_failed();
                                           self->auth_done();
                                         });
                      });
  }

  void auth_done() {
    auto auth = std::move(auth_);
    beast::error_code ignored;
    auth->stream.socket().close(ignored);
    const auto response = auth->parser.release();
    auto context = request_context();
    on_decision(chain_->on_forward_auth_response(context, response));
  }

  void auth_failed() {
    if (auth_) {
      beast::error_code ignored;
      auth_->stream.socket().close(ignored);
      auth_.reset();
    }
    auto context = request_context();
    on_decision(chain_->on_forward_auth_error(context));
  }

  // buffering: the whole request body in memory, so it can be retried.

  void buffer_request_body(const middleware::BufferBody& limits) {
    max_body_ = limits.max_request_body_bytes;
    if (const auto length = req_parser_->content_length();
        length && max_body_ > 0 && *length > static_cast<std::uint64_t>(max_body_)) {
      return send_too_large();
    }
    if (expect_continue_ && !req_parser_->is_done()) {
      expect_continue_ = false;
      return net::async_write(client_, net::buffer(continue_response),
                              [self = shared_from_this()](beast::error_code error, std::size_t) {
                                if (error) return self->do_close();
                                self->read_buffered_body();
                              });
    }
    read_buffered_body();
  }

  void read_buffered_body() {
    if (req_parser_->is_done()) {
      buffered_ = true;
      auto context = request_context();
      return on_decision(chain_->resume(context));
    }
    auto& body = req_parser_->get().body();
    body.data = buffer().bytes.data();
    body.size = buffer().bytes.size();
    expire(client_, options_.read_timeout);
    http::async_read(
        client_, client_buffer_, *req_parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec == http::error::need_buffer) ec = {};
          if (ec) {
            self->keep_alive_ = false;
            return self->send_server_error(http::status::bad_request, "400 Bad Request");
          }
          auto& read = self->req_parser_->get().body();
          const std::size_t n = self->buffer().bytes.size() - read.size;
          self->buffered_body_.append(self->buffer().bytes.data(), n);
          self->observer_.add_request_bytes(n);
          if (self->max_body_ > 0 &&
              self->buffered_body_.size() > static_cast<std::size_t>(self->max_body_)) {
            return self->send_too_large();
          }
          self->read_buffered_body();
        });
  }

  void send_too_large() {
    // The rest of the body stays unread: the connection closes after the answer.
    keep_alive_ = false;
    error_response_.emplace(middleware::too_large_response());
    end_request();
    write_local_response();
  }

  /// Domain-fronting protection as Traefik's snicheck: a Host whose tls.options differ from those
  /// the SNI was given would bypass them (client authentication above all).
  bool misdirected(std::string_view host) {
    const auto& snapshot = worker_.state().snapshot;
    if (!snapshot) return false;
    const char* sni = SSL_get_servername(client_.tls().native_handle(), TLSEXT_NAMETYPE_host_name);
    std::array<char, 256> host_buffer{};
    std::array<char, 256> sni_buffer{};
    const auto host_name = runtime::normalize_host(host, host_buffer);
    const auto server_name =
        runtime::normalize_host(sni != nullptr ? std::string_view(sni) : "", sni_buffer);
    if (host_name == server_name) return false;
    const auto& name = options_.name;
    return snapshot->tls_options_for(name, host_name) !=
           snapshot->tls_options_for(name, server_name);
  }

  // ---------------------------------------------------------------------------------------------
  // Upstream connection

  void connect_upstream() {
    // A request that may be retried finds out by retrying that the server closed the connection
    // while it was idle; only the others pay for a check beforehand.
    if (auto connection = worker_.pool().take(pick_.server->pool_key, !retry_allowed_)) {
      upstream_ = std::move(connection);
      return send_request_header();
    }
    dial();
  }

  void dial() {
    upstream_ = std::make_shared<UpstreamConnection>(worker_.context());
    upstream_->key = pick_.server->pool_key;
    expire(upstream_->stream, worker_.options().transport.dial_timeout);
    beast::error_code ec;
    const auto address = net::ip::make_address(pick_.server->host, ec);
    if (!ec) {
      upstream_->stream.tcp_layer().async_connect(
          tcp::endpoint(address, pick_.server->port),
          beast::bind_front_handler(&Session::on_connect, shared_from_this()));
      return;
    }
    resolver_.emplace(worker_.context());
    resolver_->async_resolve(
        pick_.server->host, std::to_string(pick_.server->port),
        [self = shared_from_this()](beast::error_code error, tcp::resolver::results_type results) {
          if (error) return self->on_connect(error);
          self->upstream_->stream.tcp_layer().async_connect(
              results, [self](beast::error_code connect_error, const tcp::endpoint&) {
                self->on_connect(connect_error);
              });
        });
  }

  void on_connect(beast::error_code ec) {
    if (ec) return connect_failed(ec);
    beast::error_code ignored;
    upstream_->stream.socket().set_option(tcp::no_delay(true), ignored);
    if (pick_.server->tls) return start_upstream_tls();
    send_request_header();
  }

  /// https:// servers: SNI and host name verification for the URL's host; the dial timeout still
  /// runs and covers the handshake.
  void start_upstream_tls() {
    upstream_->stream.start_tls(worker_.upstream_tls());
    auto& tls = upstream_->stream.tls();
    const std::string& host = pick_.server->host;
    if (!tls::set_server_name(tls.native_handle(), host)) {
      return upstream_failed(net::error::invalid_argument, false);
    }
    if (!worker_.options().transport.insecure_skip_verify) {
      tls.set_verify_callback(net::ssl::host_name_verification(host));
    }
    tls.async_handshake(
        net::ssl::stream_base::client,
        beast::bind_front_handler(&Session::on_upstream_handshake, shared_from_this()));
  }

  void on_upstream_handshake(beast::error_code ec) {
    if (ec) return upstream_failed(ec, false);
    send_request_header();
  }

  void send_request_header() {
    request_sent_ = false;
    auto& relay = buffer();
    relay.head.clear();
    append_head(req_parser_->get().base(), forwarded_.lines(), relay.head);
    request_chunked_ = req_parser_->get().chunked();
    upstream_->stream.expires_never();
    if (req_parser_->is_done()) {
      // A request read whole goes out in one gathered write, head and (buffered) body together.
      const std::string_view body = buffered_ ? std::string_view(buffered_body_) : "";
      return write_piece(
          upstream_->stream, true, body, true, false,
          beast::bind_front_handler(&Session::on_whole_request_written, shared_from_this()));
    }
    write_piece(upstream_->stream, true, {}, false, false,
                beast::bind_front_handler(&Session::on_request_header_sent, shared_from_this()));
  }

  void on_whole_request_written(beast::error_code ec, std::size_t) {
    if (ec) return upstream_failed(ec, true);
    request_sent_ = true;
    read_response_header();
  }

  void on_request_header_sent(beast::error_code ec, std::size_t) {
    if (ec) return upstream_failed(ec, true);
    if (expect_continue_) {
      expect_continue_ = false;
      return net::async_write(client_, net::buffer(continue_response),
                              [self = shared_from_this()](beast::error_code error, std::size_t) {
                                if (error) return self->do_close();
                                self->relay_request_body();
                              });
    }
    relay_request_body();
  }

  void relay_request_body() {
    auto& body = req_parser_->get().body();
    body.data = buffer().bytes.data();
    body.size = buffer().bytes.size();
    expire(client_, options_.read_timeout);
    http::async_read(client_, client_buffer_, *req_parser_,
                     beast::bind_front_handler(&Session::on_request_body_read, shared_from_this()));
  }

  void on_request_body_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      // The client went away or sent a broken body: the upstream exchange cannot complete.
      if (ec.category() == beast::http::make_error_code(http::error::bad_method).category() &&
          ec != http::error::partial_message) {
        close_upstream();
        keep_alive_ = false;
        return send_server_error(http::status::bad_request, "400 Bad Request");
      }
      return do_close();
    }
    const std::size_t n = buffer().bytes.size() - req_parser_->get().body().size;
    observer_.add_request_bytes(n);
    write_piece(upstream_->stream, false, {buffer().bytes.data(), n}, req_parser_->is_done(),
                request_chunked_,
                beast::bind_front_handler(&Session::on_request_body_written, shared_from_this()));
  }

  void on_request_body_written(beast::error_code ec, std::size_t) {
    if (ec) return upstream_failed(ec, false);
    if (!req_parser_->is_done()) return relay_request_body();
    request_sent_ = true;
    read_response_header();
  }

  /// Writes in one gathered write: the head in the relay buffer (when `head`), then `body`, framed
  /// as a chunk when `chunked`, then the last chunk when `last` and `chunked`.
  template <class Handler>
  void write_piece(Stream& to, bool head, std::string_view body, bool last, bool chunked,
                   Handler&& handler) {
    auto& relay = buffer();
    boost::container::static_vector<net::const_buffer, 5> pieces;
    if (head) pieces.push_back(net::buffer(relay.head));
    if (!body.empty()) {
      if (chunked) {
        relay.chunk_size_line = ChunkSizeLine(body.size());
        pieces.push_back(net::buffer(relay.chunk_size_line.view()));
      }
      pieces.push_back(net::buffer(body));
      if (chunked) pieces.push_back(net::buffer(chunk_end));
    }
    if (last && chunked) pieces.push_back(net::buffer(last_chunk));
    // The socket almost always takes a piece whole: a plain connection without a write deadline
    // is sent to at once and the handler posted, instead of a composed write through the timed
    // stream and the reactor. What the socket does not take goes the asynchronous way.
    if (to.plain_without_deadline()) {
      const std::size_t sent = send_now(to.socket(), pieces);
      if (sent == net::buffer_size(pieces)) {
        return net::post(to.get_executor(), beast::bind_handler(std::forward<Handler>(handler),
                                                                beast::error_code{}, sent));
      }
      beast::buffers_suffix<decltype(pieces)> rest(pieces);
      rest.consume(sent);
      return net::async_write(to, rest, std::forward<Handler>(handler));
    }
    net::async_write(to, pieces, std::forward<Handler>(handler));
  }

  // ---------------------------------------------------------------------------------------------
  // Upstream response

  void read_response_header() {
    response_head_sent_ = false;
    res_parser_.emplace(std::piecewise_construct, std::make_tuple(),
                        std::make_tuple(middleware::ArenaAllocator<char>(arena_)));
    res_parser_->header_limit(clamp32(worker_.options().max_header_bytes));
    res_parser_->body_limit(boost::none);
    if (head_) res_parser_->skip(true);
    expire(upstream_->stream, worker_.options().transport.response_header_timeout);
    http::async_read_header(
        upstream_->stream, upstream_->buffer, *res_parser_,
        beast::bind_front_handler(&Session::on_response_header, shared_from_this()));
  }

  void on_response_header(beast::error_code ec, std::size_t) {
    if (ec) return upstream_failed(ec, !res_parser_->got_some());
    if (pick_.service->passive) pick_.server->health->record_success();
    auto& response = res_parser_->get();
    const unsigned status = response.result_int();
    // Interim responses (100 Continue was already answered by us) are not relayed.
    if (status >= 100 && status < 200 && status != 101) return read_response_header();
    const bool upgrade = status == 101;
    if (upgrade && !websocket_) {
      close_upstream();
      return send_error(http::status::bad_gateway, "Bad Gateway", false);
    }
    upstream_keep_alive_ = !upgrade && res_parser_->keep_alive();

    strip_hop_by_hop(response, upgrade);
    for (std::size_t i = 0; i < pick_.cookie_count; ++i) {
      const auto& cookie = pick_.cookies[i];
      response.insert(field::set_cookie, runtime::format_set_cookie(*cookie.cookie, cookie.value));
    }
    if (chain_) {
      middleware::ResponseContext context{response.base(), req_parser_->get().base(), *chain_state_,
                                          client_.is_tls()};
      chain_->on_response(context);
      auto& compressor = chain_state_->compressor;
      if (compressor && (upgrade || head_ || res_parser_->is_done())) compressor.reset();
      // An HTTP/1.0 client cannot take chunks: a compressed body ends with the connection.
      if (compressor && http10_) keep_alive_ = false;
    }
    response.version(11);
    if (!upgrade && !res_parser_->is_done() && !res_parser_->content_length()) {
      // Chunked or close-delimited upstream body: re-chunk for 1.1, close-delimit for 1.0.
      if (http10_) {
        keep_alive_ = false;
      } else {
        response.chunked(true);
      }
    }
    if (!upgrade) {
      if (!keep_alive_ || worker_.draining()) {
        keep_alive_ = false;
        response.set(field::connection, "close");
      } else if (http10_) {
        response.set(field::connection, "keep-alive");
      }
    }
    if (chain_ && chain_state_->compressor) return compress_next();
    prepare_response_head();
    if (!upgrade && body_buffered()) return relay_response_body();
    expire(client_, options_.write_timeout);
    response_head_sent_ = true;
    write_piece(client_, true, {}, false, false,
                beast::bind_front_handler(&Session::on_response_header_sent, shared_from_this()));
  }

  void prepare_response_head() {
    const auto& response = res_parser_->get();
    response_chunked_ = response.chunked();
    auto& head = buffer().head;
    head.clear();
    append_head(response.base(), head);
  }

  // compress: the body goes through the gzip encoder; the header waits until it has decided.

  void compress_next() {
    auto& compressor = *chain_state_->compressor;
    if (res_parser_->is_done()) {
      compressor.finish(compressed_);
      return write_compressed(true);
    }
    auto& body = res_parser_->get().body();
    body.data = buffer().bytes.data();
    body.size = buffer().bytes.size();
    upstream_->stream.expires_never();
    http::async_read(upstream_->stream, upstream_->buffer, *res_parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec == http::error::need_buffer) ec = {};
                       if (ec) return self->do_close();
                       auto& read = self->res_parser_->get().body();
                       const std::size_t n = self->buffer().bytes.size() - read.size;
                       auto& gzip = *self->chain_state_->compressor;
                       gzip.write({self->buffer().bytes.data(), n}, self->compressed_);
                       if (self->res_parser_->is_done()) {
                         gzip.finish(self->compressed_);
                         return self->write_compressed(true);
                       }
                       if (self->compressed_.empty()) return self->compress_next();
                       self->write_compressed(false);
                     });
  }

  void write_compressed(bool last) {
    const bool head = !std::exchange(response_head_sent_, true);
    if (head) {
      auto& response = res_parser_->get();
      const auto& compressor = *chain_state_->compressor;
      compressor.apply_headers(response.base());
      if (compressor.state() == middleware::GzipCompressor::State::compressing && !http10_) {
        response.chunked(true);
      }
      prepare_response_head();
    }
    observer_.add_response_bytes(compressed_.size());
    expire(client_, options_.write_timeout);
    write_piece(client_, head, compressed_, last, response_chunked_,
                [self = shared_from_this(), last](beast::error_code ec, std::size_t) {
                  if (ec) return self->do_close();
                  self->compressed_.clear();
                  if (last) return self->finish_exchange();
                  self->compress_next();
                });
  }

  void on_response_header_sent(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    if (res_parser_->get().result_int() == 101) return start_tunnel();
    relay_response_body();
  }

  /// Whether the first body read is served from bytes already read: then the header waits for it
  /// and both go out in one gathered write. Otherwise the header goes at once, as a streaming
  /// response may not send more for a while.
  bool body_buffered() {
    if (res_parser_->is_done()) return true;
    const auto length = res_parser_->content_length();
    return length &&
           upstream_->buffer.size() >= std::min<std::uint64_t>(*length, buffer().bytes.size());
  }

  void relay_response_body() {
    // Nothing more to read: what is left to write is the head (when it waited) or the last chunk.
    if (res_parser_->is_done()) return write_response_piece(0);
    auto& body = res_parser_->get().body();
    body.data = buffer().bytes.data();
    body.size = buffer().bytes.size();
    upstream_->stream.expires_never();
    http::async_read(
        upstream_->stream, upstream_->buffer, *res_parser_,
        beast::bind_front_handler(&Session::on_response_body_read, shared_from_this()));
  }

  void on_response_body_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::need_buffer) ec = {};
    // Once the header is out nothing can be reported any more: closing tells the client.
    if (ec) return do_close();
    const std::size_t n = buffer().bytes.size() - res_parser_->get().body().size;
    observer_.add_response_bytes(n);
    write_response_piece(n);
  }

  /// The head if it waited for the body, `n` bytes of the relay buffer, and the end of the body
  /// once the upstream response is complete.
  void write_response_piece(std::size_t n) {
    const bool head = !std::exchange(response_head_sent_, true);
    expire(client_, options_.write_timeout);
    write_piece(client_, head, {buffer().bytes.data(), n}, res_parser_->is_done(),
                response_chunked_,
                beast::bind_front_handler(&Session::on_response_body_written, shared_from_this()));
  }

  void on_response_body_written(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    if (res_parser_->is_done()) return finish_exchange();
    relay_response_body();
  }

  void finish_exchange() {
    if (upstream_keep_alive_ && res_parser_->is_done() && request_sent_ && !worker_.draining()) {
      worker_.pool().put(std::move(upstream_));
    }
    close_upstream();
    end_request();
    // A request body left unread would be parsed as the next request.
    if (!keep_alive_ || worker_.draining() || !req_parser_->is_done()) return do_close();
    do_read_header();
  }

  /// Drops what the finished request held (its snapshot above all).
  void end_request() {
    observe_end();
    if (chain_) {
      chain_ = nullptr;
      chain_state_.reset();
      auth_.reset();
      compressed_.clear();
      // A large buffered body is not kept for the connection's next requests.
      if (buffered_) std::string().swap(buffered_body_);
      buffered_ = false;
      attempts_ = 0;
    }
    tried_.clear();
    snapshot_.reset();
    pick_ = {};
    resolver_.reset();
    if (!tunneling_) release_buffers();
  }

  /// Traefik v3's open_connections: client connections per entry point.
  void count_connection(int delta) {
    if (!worker_.options().metrics.enabled) return;
    worker_.metrics.connection(worker_.metrics.intern(options_.name), delta);
  }

  /// Hands the request's outcome to the metrics and the access log.
  void observe_end() {
    if (!observer_.active() || !req_parser_) return;
    RequestOutcome outcome;
    const bool answered = res_parser_ && res_parser_->is_header_done();
    if (answered) outcome.origin_status = res_parser_->get().result_int();
    if (error_response_) {
      outcome.status = error_response_->result_int();
      outcome.local_body_bytes = error_response_->body().size();
    } else {
      // Without any answer the client went away first: Traefik's 499.
      outcome.status = answered ? outcome.origin_status : 499;
    }
    if (pick_.server != nullptr) outcome.server_url = pick_.server->url;
    if (error_response_) {
      outcome.response = &error_response_->base();
    } else if (answered) {
      outcome.response = &res_parser_->get().base();
    }
    observer_.end(worker_, outcome, req_parser_->get(), client_ip_, client_.is_tls());
  }

  RelayBuffer& buffer() {
    if (!buffer_) buffer_ = worker_.acquire_buffer();
    return *buffer_;
  }

  void release_buffers() {
    if (buffer_) worker_.release_buffer(std::move(buffer_));
    if (tunnel_buffer_) worker_.release_buffer(std::move(tunnel_buffer_));
  }

  /// Nothing was sent on a connection that could not be opened, so any request may go to another
  /// server of the service: a server that just stopped listening loses no request.
  void connect_failed(beast::error_code ec) {
    close_upstream();
    const runtime::ServerTarget& failed = *pick_.server;
    if (fail_over()) {
      count_passive_failure(failed);
      return connect_upstream();
    }
    upstream_failed(ec, false);
  }

  /// passiveHealthCheck: a request its server did not answer counts against that server.
  void count_passive_failure(const runtime::ServerTarget& server) {
    if (const auto& passive = pick_.service->passive) server.health->record_failure(*passive);
  }

  /// Moves the request to the next server of the service it has not tried yet; false when none.
  bool fail_over() {
    tried_.push_back(pick_.server);
    const auto* next = next_server([&](const runtime::ServerTarget& server) {
      return std::find(tried_.begin(), tried_.end(), &server) == tried_.end();
    });
    if (next == nullptr) return false;
    switch_server(*next);
    return true;
  }

  /// The first server after the current one (in the service's order) that is up, has weight and
  /// passes `accept`.
  template <class Accept>
  const runtime::ServerTarget* next_server(Accept accept) const {
    const auto& servers = pick_.service->servers;
    const auto start = static_cast<std::size_t>(pick_.server - servers.data());
    for (std::size_t i = 1; i <= servers.size(); ++i) {
      const auto& candidate = servers[(start + i) % servers.size()];
      if (candidate.weight > 0 && candidate.up() && accept(candidate)) return &candidate;
    }
    return nullptr;
  }

  void switch_server(const runtime::ServerTarget& server) {
    auto& request = req_parser_->get();
    const std::string& old_prefix = pick_.server->path_prefix;
    if (!old_prefix.empty() || !server.path_prefix.empty()) {
      // The target is the old server's prefix (without a trailing '/') and the origin.
      const std::size_t cut =
          old_prefix.empty() ? 0 : old_prefix.size() - (old_prefix.back() == '/');
      const std::string_view current = request.target();
      std::string target(server.path_prefix);
      const std::string_view origin = current.substr(std::min(cut, current.size()));
      if (!target.empty() && target.back() == '/' && origin.starts_with('/')) target.pop_back();
      target.append(origin);
      request.target(target);
    }
    pick_.server = &server;
    if (!pick_.service->pass_host_header) request.set(field::host, server.authority);
    // The service's sticky cookie must name the server that answers.
    if (const auto& sticky = pick_.service->sticky) {
      const runtime::CookieToSet cookie{&*sticky, server.sticky_value};
      const auto end = pick_.cookies.begin() + static_cast<std::ptrdiff_t>(pick_.cookie_count);
      auto it = std::find_if(pick_.cookies.begin(), end,
                             [&](const runtime::CookieToSet& c) { return c.cookie == &*sticky; });
      if (it != end) {
        *it = cookie;
      } else if (pick_.cookie_count < pick_.cookies.size()) {
        pick_.cookies[pick_.cookie_count++] = cookie;
      }
    }
  }

  void upstream_failed(beast::error_code ec, bool nothing_received) {
    close_upstream();
    if (nothing_received && retry_allowed_ && !retried_ && stale_connection_error(ec)) {
      // Closed without a word: a pooled connection the server had dropped, or a server going away
      // (a SIGTERM closes its listener and idle connections before berth sees the stop event). One
      // more try on a fresh connection; a closed listener refuses it, and refusals fail over.
      retried_ = true;
      return dial();
    }
    count_passive_failure(*pick_.server);
    if (chain_ != nullptr && chain_->retry() != nullptr && (!has_body_ || buffered_)) {
      // Nothing reached the client yet (errors after that close the connection instead).
      if (const auto wait = chain_->retry()->should_retry(++attempts_, true, false)) {
        observer_.add_retry();
        // Another server when there is one, as Traefik's retry goes through the balancer again.
        if (const auto* next = next_server([](const runtime::ServerTarget&) { return true; })) {
          switch_server(*next);
        }
        tried_.clear();
        auto& timer = this->timer();
        timer.expires_after(*wait);
        return timer.async_wait([self = shared_from_this()](beast::error_code error) {
          if (error) return self->do_close();
          self->connect_upstream();
        });
      }
    }
    if (ec == beast::error::timeout) {
      return send_error(http::status::gateway_timeout, "Gateway Timeout", false);
    }
    send_error(http::status::bad_gateway, "Bad Gateway", false);
  }

  void close_upstream() {
    if (!upstream_) return;
    beast::error_code ignored;
    upstream_->stream.socket().close(ignored);
    upstream_.reset();
  }

  // ---------------------------------------------------------------------------------------------
  // WebSocket tunnel: raw bytes both ways, independent of any snapshot.

  void start_tunnel() {
    end_request();
    // The tunnel's line is written when it closes, from the request: a copy on the heap lets the
    // exchange's arena block go back to the worker for as long as the tunnel stays open.
    tunnel_request_.emplace(req_parser_->get().base());
    drop_messages();
    client_.expires_never();
    upstream_->stream.expires_never();
    tunneling_ = true;
    open_directions_ = 2;
    pump(true);
    pump(false);
  }

  void pump(bool to_upstream) {
    if (tunnel_closed_) return;
    if (to_upstream && tls_tunnel_ending_) return end_tls_tunnel();
    auto& to = to_upstream ? upstream_->stream : client_;
    // Bytes that arrived behind the handshake go first.
    auto& leftover = to_upstream ? client_buffer_ : upstream_->buffer;
    if (leftover.size() > 0) {
      return net::async_write(
          to, leftover.data(),
          [self = shared_from_this(), to_upstream](beast::error_code ec, std::size_t n) {
            auto& pending = to_upstream ? self->client_buffer_ : self->upstream_->buffer;
            pending.consume(n);
            if (ec) return self->close_tunnel();
            self->pump(to_upstream);
          });
    }
    // What arrived behind the handshake is passed on: its read buffer is not needed any more.
    if (to_upstream) {
      worker_.release_read_buffer(std::move(client_buffer_));
    } else {
      upstream_->buffer.shrink_to_fit();
    }
    auto& from = to_upstream ? client_ : upstream_->stream;
    if (from.is_tls()) return read_tunnel(to_upstream);
    // A plain side is waited on without a buffer, so a quiet WebSocket holds none.
    from.socket().async_wait(net::socket_base::wait_read,
                             [self = shared_from_this(), to_upstream](beast::error_code ec) {
                               if (self->tunnel_closed_) return;
                               if (to_upstream && self->tls_tunnel_ending_)
                                 return self->end_tls_tunnel();
                               if (ec) return self->close_tunnel();
                               self->read_tunnel(to_upstream);
                             });
  }

  void read_tunnel(bool to_upstream) {
    auto& from = to_upstream ? client_ : upstream_->stream;
    from.async_read_some(
        net::buffer(tunnel_chunk(to_upstream).bytes),
        [self = shared_from_this(), to_upstream](beast::error_code ec, std::size_t n) {
          self->on_pump_read(to_upstream, ec, n);
        });
  }

  /// The buffer one tunnel direction relays through, from the worker's pool while in use.
  RelayBuffer& tunnel_chunk(bool to_upstream) {
    auto& chunk = to_upstream ? buffer_ : tunnel_buffer_;
    if (!chunk) chunk = worker_.acquire_buffer();
    return *chunk;
  }

  void on_pump_read(bool to_upstream, beast::error_code ec, std::size_t n) {
    if (tunnel_closed_) return;
    if (to_upstream && tls_tunnel_ending_) return end_tls_tunnel();
    auto& to = to_upstream ? upstream_->stream : client_;
    if (end_of_stream(ec) && !to_upstream && client_.is_tls()) {
      // TLS has no half-close: once upstream is done the client gets a close_notify as soon as
      // its side is idle (a pending read is cancelled), and the tunnel ends.
      tls_tunnel_ending_ = true;
      if (--open_directions_ == 0) return end_tls_tunnel();
      client_.cancel();
      return;
    }
    if (end_of_stream(ec)) {
      // Half-close: pass the FIN on and keep the other direction open until it ends too.
      beast::error_code ignored;
      to.socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (--open_directions_ == 0) close_tunnel();
      return;
    }
    if (ec) return close_tunnel();
    net::async_write(
        to, net::buffer(tunnel_chunk(to_upstream).bytes.data(), n),
        [self = shared_from_this(), to_upstream](beast::error_code error, std::size_t) {
          if (error) return self->close_tunnel();
          auto& from = to_upstream ? self->client_ : self->upstream_->stream;
          if (!from.is_tls()) {
            self->worker_.release_buffer(
                std::move(to_upstream ? self->buffer_ : self->tunnel_buffer_));
          }
          self->pump(to_upstream);
        });
  }

  void end_tls_tunnel() {
    if (tls_closing_) return;
    tls_closing_ = true;
    beast::error_code ignored;
    upstream_->stream.socket().close(ignored);
    client_.expires_after(tls_shutdown_timeout);
    client_.tls().async_shutdown(
        [self = shared_from_this()](beast::error_code) { self->close_tunnel(); });
  }

  void close_tunnel() {
    if (tunnel_closed_) return;
    tunnel_closed_ = true;
    observer_.end_tunnel(worker_, *held_request(), client_ip_, client_.is_tls());
    beast::error_code ignored;
    client_.socket().close(ignored);
    upstream_->stream.socket().close(ignored);
  }

  // ---------------------------------------------------------------------------------------------
  // Local responses

  /// A proxy error as Traefik writes it (http.Error for 404/503, status text for 502/504).
  void send_error(http::status status, std::string_view body, bool nosniff) {
    auto& response = error_response_.emplace(status, 11);
    response.set(field::content_type, "text/plain; charset=utf-8");
    if (nosniff) response.set("X-Content-Type-Options", "nosniff");
    response.body().assign(body);
    if (chain_) {
      // The middlewares see the proxy's own errors too (the circuit breaker counts them).
      middleware::ResponseContext context{response.base(), req_parser_->get().base(), *chain_state_,
                                          client_.is_tls()};
      chain_->on_response(context);
    }
    end_request();
    write_local_response();
  }

  /// No server to pick. noop@internal has none by design and answers 418, as Traefik's does.
  void send_no_server(const runtime::ServiceNode& service) {
    if (service.name == "noop@internal") {
      return send_error(static_cast<http::status>(418), "", false);
    }
    send_error(http::status::service_unavailable, "no available server\n", true);
  }

  /// The entry point's redirection, answered as Traefik's redirect middleware does.
  void send_redirect(http::verb method, std::string_view host, std::string_view origin) {
    const auto& redirect = *options_.redirect;
    http::status status =
        method == http::verb::get ? http::status::found : http::status::temporary_redirect;
    if (redirect.permanent) {
      status = method == http::verb::get ? http::status::moved_permanently
                                         : http::status::permanent_redirect;
    }
    std::string location = redirect.scheme + "://";
    location += host_without_port(host);
    const bool default_port = (redirect.scheme == "https" && redirect.port == 443) ||
                              (redirect.scheme == "http" && redirect.port == 80);
    if (redirect.port != 0 && !default_port) location += ":" + std::to_string(redirect.port);
    location += origin.empty() ? std::string_view("/") : origin;

    auto& response = error_response_.emplace(status, 11);
    response.set(field::location, location);
    response.set(field::content_type, "text/plain; charset=utf-8");
    response.body().assign(http::obsolete_reason(status));
    end_request();
    write_local_response();
  }

  /// Writes error_response_, then reads the next request or closes.
  void write_local_response() {
    auto& response = *error_response_;
    // The rest of an unread request body would be taken for the next request.
    const bool keep = keep_alive_ && req_parser_ && req_parser_->is_done() && !worker_.draining();
    if (!keep) {
      response.set(field::connection, "close");
    } else if (http10_) {
      response.set(field::connection, "keep-alive");
    }
    response.prepare_payload();
    expire(client_, options_.write_timeout);
    http::async_write(client_, response,
                      [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->error_response_.reset();
                        if (ec || !keep) return self->do_close();
                        self->do_read_header();
                      });
  }

  /// An error found while reading the request, written like Go's server: the connection closes.
  void send_server_error(http::status status, std::string_view body) {
    keep_alive_ = false;
    send_error(status, body, false);
  }

  void do_close() {
    end_request();
    close_upstream();
    // TLS ends with a close_notify, so the client can tell a complete response from a cut one.
    if (client_.is_tls() && !tls_closing_ && client_.socket().is_open()) {
      tls_closing_ = true;
      client_.expires_after(tls_shutdown_timeout);
      return client_.tls().async_shutdown(
          [self = shared_from_this()](beast::error_code) { self->do_close(); });
    }
    beast::error_code ignored;
    client_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    client_.socket().close(ignored);
  }

  Worker& worker_;
  std::size_t entry_point_;
  const EntryPointOptions& options_;
  std::shared_ptr<const tls::Store> tls_store_;  ///< outlives client_, which uses its context
  Stream client_;
  beast::flat_buffer client_buffer_;
  std::string client_ip_;
  std::optional<rules::IpAddress> client_address_;
  std::string host_storage_;
  std::vector<rules::HeaderField> header_views_;

  /// Holds the fields of both parsers' messages; emptied when the next request begins.
  middleware::FieldArena arena_{worker_.arena_blocks};
  std::optional<http::request_parser<http::buffer_body, middleware::ArenaAllocator<char>>>
      req_parser_;
  std::optional<http::response_parser<http::buffer_body, middleware::ArenaAllocator<char>>>
      res_parser_;
  std::optional<middleware::StringResponse> error_response_;
  std::optional<middleware::RequestHeader> tunnel_request_;  ///< on the heap, once tunneling
  std::optional<tcp::resolver> resolver_;

  std::shared_ptr<const runtime::Snapshot> snapshot_;
  runtime::Pick pick_;
  std::vector<const runtime::ServerTarget*> tried_;  ///< servers that refused this request

  // Middlewares: set only while a request of a route with a chain runs.
  const middleware::Chain* chain_ = nullptr;  ///< owned by snapshot_
  std::optional<middleware::RequestState> chain_state_;
  std::size_t service_ = 0;
  std::optional<net::steady_timer> timer_;
  std::unique_ptr<AuthExchange> auth_;
  std::string buffered_body_;
  std::string compressed_;
  std::int64_t max_body_ = 0;
  std::int64_t attempts_ = 0;
  bool has_body_ = false;
  bool buffered_ = false;
  bool request_sent_ = false;        ///< the whole request reached the upstream connection
  bool request_chunked_ = false;     ///< this hop frames the request body in chunks
  bool response_chunked_ = false;    ///< this hop frames the response body in chunks
  bool response_head_sent_ = false;  ///< the response head went out (or is being written)
  std::shared_ptr<UpstreamConnection> upstream_;
  std::unique_ptr<RelayBuffer> buffer_;
  std::unique_ptr<RelayBuffer> tunnel_buffer_;

  ForwardedFields forwarded_;
  RequestObserver observer_;
  std::size_t requests_ = 0;
  /// While a plain connection waits for its next request: when the idle timeout closes it.
  std::chrono::steady_clock::time_point idle_deadline_ =
      std::chrono::steady_clock::time_point::max();
  int open_directions_ = 0;
  bool tunneling_ = false;
  bool idle_ = false;
  bool keep_alive_ = false;
  bool http10_ = false;
  bool websocket_ = false;
  bool expect_continue_ = false;
  bool head_ = false;
  bool retried_ = false;
  bool retry_allowed_ = false;
  bool upstream_keep_alive_ = false;
  bool tunnel_closed_ = false;
  bool tls_closing_ = false;
  bool tls_tunnel_ending_ = false;
  /// Where an idle keep-alive connection reads the start of its next request.
  std::array<char, 512> request_start_;
};

void start_session(Worker& worker, std::size_t entry_point, Socket socket) {
  std::make_shared<Session>(worker, entry_point, std::move(socket))->run();
}

void close_if_idle_expired(Session& session, std::chrono::steady_clock::time_point now) {
  session.close_if_idle_expired(now);
}

void close_if_idle(Session& session) {
  session.close_if_idle();
}

}  // namespace berth::proxy
