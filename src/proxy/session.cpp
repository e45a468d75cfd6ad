// One client connection: read a request, route it on the worker's current snapshot, forward it to a
// pooled upstream connection streaming both bodies through a fixed buffer (the async form of
// Beast's relay example), then the next request; or, after a 101, a raw WebSocket tunnel.

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <limits>
#include <optional>

#include "berth/proxy/forwarding.hpp"
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

/// The host of a Host header without its port ("[::1]:80" -> "[::1]").
std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.rfind(':'));
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Worker& worker, std::size_t entry_point, tcp::socket socket)
      : worker_(worker),
        entry_point_(entry_point),
        options_(worker.options().entry_points[entry_point]),
        tls_store_(worker.tls()),
        client_(std::move(socket)) {
    worker_.add(this);
  }
  ~Session() {
    release_buffers();
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
    }
    client_.socket().set_option(tcp::no_delay(true), ec);
    detect_tls();
  }

  void close_if_idle() {
    if (idle_) client_.cancel();
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
    req_serializer_.reset();
    res_serializer_.reset();
    res_parser_.reset();
    req_parser_.emplace();
    req_parser_->header_limit(clamp32(worker_.options().max_header_bytes));
    req_parser_->body_limit(boost::none);
    idle_ = client_buffer_.size() == 0;
    // Between requests the idle timeout applies; once a request starts, the read timeout.
    expire(client_, idle_ && requests_ > 0 ? options_.idle_timeout : options_.read_timeout);
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
    keep_alive_ = request.keep_alive() && !worker_.draining();
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
    pick_ = state.balancer->pick(route->service, view);
    if (pick_.server == nullptr) {
      return send_error(http::status::service_unavailable, "no available server\n", true);
    }
    // The request keeps this snapshot (and so its server and cookie data) until it ends.
    snapshot_ = state.snapshot;

    websocket_ = is_websocket_upgrade(request);
    expect_continue_ = beast::iequals(request[field::expect], "100-continue");
    head_ = request.method() == http::verb::head;
    const bool has_body = !req_parser_->is_done();
    retry_allowed_ = idempotent(request.method()) && !has_body;

    const ForwardContext context{client_ip_,
                                 host,
                                 target->origin,
                                 pick_.server->path_prefix,
                                 pick_.server->authority,
                                 worker_.server_name(),
                                 pick_.service->pass_host_header,
                                 options_.trust_forwarded_headers,
                                 client_.is_tls(),
                                 websocket_};
    prepare_upstream_request(request, context);
    // Transfer-Encoding was stripped as hop-by-hop; this hop frames the body again.
    if (has_body && req_parser_->chunked()) request.chunked(true);
    connect_upstream();
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
    if (auto connection = worker_.pool().take(pick_.server->pool_key)) {
      upstream_ = std::move(connection);
      reused_ = true;
      return send_request_header();
    }
    reused_ = false;
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
    if (ec) return upstream_failed(ec, false);
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
    beast::error_code not_address;
    net::ip::make_address(host, not_address);
    // SNI carries names only, never addresses.
    // SSL_set_tlsext_host_name, without the macro's C cast.
    if (not_address && SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                                TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str())) != 1) {
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
    req_serializer_.emplace(req_parser_->get());
    upstream_->stream.expires_never();
    http::async_write_header(
        upstream_->stream, *req_serializer_,
        beast::bind_front_handler(&Session::on_request_header_sent, shared_from_this()));
  }

  void on_request_header_sent(beast::error_code ec, std::size_t) {
    if (ec) return upstream_failed(ec, true);
    if (expect_continue_ && !req_parser_->is_done()) {
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
    if (req_serializer_->is_done()) return read_response_header();
    auto& body = req_parser_->get().body();
    if (req_parser_->is_done()) {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
      return write_request_body();
    }
    body.data = buffer().data();
    body.size = buffer().size();
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
    auto& body = req_parser_->get().body();
    body.size = buffer().size() - body.size;
    body.data = buffer().data();
    body.more = !req_parser_->is_done();
    write_request_body();
  }

  void write_request_body() {
    http::async_write(
        upstream_->stream, *req_serializer_,
        beast::bind_front_handler(&Session::on_request_body_written, shared_from_this()));
  }

  void on_request_body_written(beast::error_code ec, std::size_t) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return upstream_failed(ec, false);
    if (req_serializer_->is_done()) return read_response_header();
    relay_request_body();
  }

  // ---------------------------------------------------------------------------------------------
  // Upstream response

  void read_response_header() {
    res_serializer_.reset();
    res_parser_.emplace();
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
    auto& response = res_parser_->get();
    const unsigned status = response.result_int();
    // Interim responses (100 Continue was already answered by us) are not relayed.
    if (status >= 100 && status < 200 && status != 101) return read_response_header();
    const bool upgrade = status == 101;
    if (upgrade && !websocket_) {
      close_upstream();
      return send_error(http::status::bad_gateway, "Bad Gateway", false);
    }
    upstream_keep_alive_ = !upgrade && response.keep_alive() && !res_parser_->need_eof();

    strip_hop_by_hop(response, upgrade);
    for (std::size_t i = 0; i < pick_.cookie_count; ++i) {
      const auto& cookie = pick_.cookies[i];
      response.insert(field::set_cookie, runtime::format_set_cookie(*cookie.cookie, cookie.value));
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
    res_serializer_.emplace(response);
    expire(client_, options_.write_timeout);
    http::async_write_header(
        client_, *res_serializer_,
        beast::bind_front_handler(&Session::on_response_header_sent, shared_from_this()));
  }

  void on_response_header_sent(beast::error_code ec, std::size_t) {
    if (ec) return do_close();
    if (res_parser_->get().result_int() == 101) return start_tunnel();
    relay_response_body();
  }

  void relay_response_body() {
    if (res_serializer_->is_done()) return finish_exchange();
    auto& body = res_parser_->get().body();
    if (res_parser_->is_done()) {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
      return write_response_body();
    }
    body.data = buffer().data();
    body.size = buffer().size();
    upstream_->stream.expires_never();
    http::async_read(
        upstream_->stream, upstream_->buffer, *res_parser_,
        beast::bind_front_handler(&Session::on_response_body_read, shared_from_this()));
  }

  void on_response_body_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::need_buffer) ec = {};
    // Once the header is out nothing can be reported any more: closing tells the client.
    if (ec) return do_close();
    auto& body = res_parser_->get().body();
    body.size = buffer().size() - body.size;
    body.data = buffer().data();
    body.more = !res_parser_->is_done();
    write_response_body();
  }

  void write_response_body() {
    expire(client_, options_.write_timeout);
    http::async_write(
        client_, *res_serializer_,
        beast::bind_front_handler(&Session::on_response_body_written, shared_from_this()));
  }

  void on_response_body_written(beast::error_code ec, std::size_t) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return do_close();
    if (res_serializer_->is_done()) return finish_exchange();
    relay_response_body();
  }

  void finish_exchange() {
    if (upstream_keep_alive_ && res_parser_->is_done() && req_serializer_->is_done() &&
        !worker_.draining()) {
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
    snapshot_.reset();
    pick_ = {};
    resolver_.reset();
    if (!tunnel_buffer_) release_buffers();
  }

  RelayBuffer& buffer() {
    if (!buffer_) buffer_ = worker_.acquire_buffer();
    return *buffer_;
  }

  void release_buffers() {
    if (buffer_) worker_.release_buffer(std::move(buffer_));
    if (tunnel_buffer_) worker_.release_buffer(std::move(tunnel_buffer_));
  }

  void upstream_failed(beast::error_code ec, bool nothing_received) {
    close_upstream();
    if (nothing_received && reused_ && retry_allowed_ && !retried_ && stale_connection_error(ec)) {
      // The pooled connection was closed by the server; one more try on a fresh one.
      retried_ = true;
      reused_ = false;
      return dial();
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
    client_.expires_never();
    upstream_->stream.expires_never();
    tunnel_buffer_ = worker_.acquire_buffer();
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
    auto& from = to_upstream ? client_ : upstream_->stream;
    auto& chunk = to_upstream ? buffer() : *tunnel_buffer_;
    from.async_read_some(net::buffer(chunk), [self = shared_from_this(), to_upstream](
                                                 beast::error_code ec, std::size_t n) {
      self->on_pump_read(to_upstream, ec, n);
    });
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
    auto& chunk = to_upstream ? buffer() : *tunnel_buffer_;
    net::async_write(
        to, net::buffer(chunk.data(), n),
        [self = shared_from_this(), to_upstream](beast::error_code error, std::size_t) {
          if (error) return self->close_tunnel();
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
    beast::error_code ignored;
    client_.socket().close(ignored);
    upstream_->stream.socket().close(ignored);
  }

  // ---------------------------------------------------------------------------------------------
  // Local responses

  /// A proxy error as Traefik writes it (http.Error for 404/503, status text for 502/504).
  void send_error(http::status status, std::string_view body, bool nosniff) {
    end_request();
    auto& response = error_response_.emplace(status, 11);
    response.set(field::content_type, "text/plain; charset=utf-8");
    if (nosniff) response.set("X-Content-Type-Options", "nosniff");
    response.body().assign(body);
    write_local_response();
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

    end_request();
    auto& response = error_response_.emplace(status, 11);
    response.set(field::location, location);
    response.set(field::content_type, "text/plain; charset=utf-8");
    response.body().assign(http::obsolete_reason(status));
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

  std::optional<http::request_parser<http::buffer_body>> req_parser_;
  std::optional<http::request_serializer<http::buffer_body>> req_serializer_;
  std::optional<http::response_parser<http::buffer_body>> res_parser_;
  std::optional<http::response_serializer<http::buffer_body>> res_serializer_;
  std::optional<http::response<http::string_body>> error_response_;
  std::optional<tcp::resolver> resolver_;

  std::shared_ptr<const runtime::Snapshot> snapshot_;
  runtime::Pick pick_;
  std::shared_ptr<UpstreamConnection> upstream_;
  std::unique_ptr<RelayBuffer> buffer_;
  std::unique_ptr<RelayBuffer> tunnel_buffer_;

  std::size_t requests_ = 0;
  int open_directions_ = 0;
  bool idle_ = false;
  bool keep_alive_ = false;
  bool http10_ = false;
  bool websocket_ = false;
  bool expect_continue_ = false;
  bool head_ = false;
  bool reused_ = false;
  bool retried_ = false;
  bool retry_allowed_ = false;
  bool upstream_keep_alive_ = false;
  bool tunnel_closed_ = false;
  bool tls_closing_ = false;
  bool tls_tunnel_ending_ = false;
};

void start_session(Worker& worker, std::size_t entry_point, tcp::socket socket) {
  std::make_shared<Session>(worker, entry_point, std::move(socket))->run();
}

void close_if_idle(Session& session) {
  session.close_if_idle();
}

}  // namespace berth::proxy
