// The Engine API client on Beast, the HTTP library the proxy already uses (libcurl's dependency
// tree cost ~4 MB of resident memory). Each call runs its operations as a coroutine on a private
// io_context in the calling thread: a deadline timer bounds a request, and shutdown() ends any
// call from another thread by stopping that io_context.

#include "berth/docker/client.hpp"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "berth/tls/store.hpp"

namespace berth::docker {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Executor = net::io_context::executor_type;
using UnixSocket = net::basic_stream_socket<net::local::stream_protocol, Executor>;
using TcpSocket = net::basic_stream_socket<net::ip::tcp, Executor>;
using TlsStream = net::ssl::stream<TcpSocket>;
using Resolver = net::ip::basic_resolver<net::ip::tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;
template <class T>
using Task = net::awaitable<T, Executor>;
constexpr auto use_task = net::use_awaitable_t<Executor>{};

/// Answers larger than this are refused: a container list of thousands is a few MB.
constexpr std::size_t max_body_bytes = 64 * 1024 * 1024;

struct Response {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
  bool keep_alive = false;
};

/// Where the body of a 200 event stream goes; other answers are collected into Response::body.
struct EventSink {
  const std::function<void(const Event&)>* on_event = nullptr;
  const std::function<void()>* on_connected = nullptr;
  std::string pending;  ///< the start of a line cut off by the transport

  /// Newline-delimited JSON, cut at arbitrary places by the transport.
  void feed(std::string_view bytes) {
    pending.append(bytes);
    std::size_t start = 0;
    for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n', start)) {
      const std::string_view line = std::string_view(pending).substr(start, end - start);
      start = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      auto event = parse_event(line);
      if (auto* parsed = std::get_if<Event>(&event)) (*on_event)(*parsed);
    }
    pending.erase(0, start);
  }
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a path segment or query.
std::string percent_encode(std::string_view text) {
  std::string out;
  for (const char character : text) {
    const auto c = static_cast<unsigned char>(character);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

/// The daemon's {"message": "..."} or, failing that, the body itself.
std::string daemon_message(const std::string& body) {
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    const auto it = parsed.find("message");
    if (it != parsed.end() && it->is_string()) return it->get<std::string>();
  }
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return body.substr(first, body.find_last_not_of(" \t\r\n") - first + 1);
}

/// "Thu, 26 Nov 2026 04:55:26 GMT" -> nanoseconds since the epoch; 0 when unparsable.
std::int64_t parse_http_date(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return 0;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000'000;
}

std::string seconds(std::chrono::milliseconds duration) {
  return fmt::format("{:g} s", static_cast<double>(duration.count()) / 1000.0);
}

/// An open connection to the daemon, of whichever kind the endpoint asks for.
struct Connection {
  std::variant<UnixSocket, TcpSocket, TlsStream> stream;
  beast::flat_buffer buffer;

  void close() {
    beast::error_code ignored;
    std::visit([&](auto& any) { beast::get_lowest_layer(any).close(ignored); }, stream);
  }
};

/// What a failed step reports. `before_answer`: no byte of the answer came, so on a kept
/// connection the daemon may have closed it meanwhile and a fresh one is worth a try.
struct Failure {
  std::string detail;
  bool before_answer = false;
};

}  // namespace

struct Client::Impl {
  /// The operations of one calling thread: requests, or the event stream.
  struct Channel {
    net::io_context io{1};
    Timer deadline{io.get_executor()};
    std::optional<Resolver> resolver;
    Connection* current = nullptr;  ///< what the deadline closes when it expires
    bool expired = false;
    std::optional<Connection> idle;  ///< requests: kept alive for the next one

    /// Until `timeout` from now, after which the current connection is closed (0: no deadline).
    void arm(std::chrono::milliseconds timeout) {
      expired = false;
      if (timeout.count() == 0) return disarm();
      deadline.expires_after(timeout);
      deadline.async_wait([this](beast::error_code ec) {
        // A wait that was re-armed or disarmed while its completion was queued has a later expiry.
        if (ec || deadline.expiry() > std::chrono::steady_clock::now()) return;
        expired = true;
        if (resolver) resolver->cancel();
        if (current != nullptr) current->close();
      });
    }
    void disarm() { deadline.expires_at(Timer::time_point::max()); }
  };

  ClientOptions options;
  std::mutex stop_mutex;
  bool stopped = false;                          ///< under stop_mutex
  std::mutex tls_mutex;                          ///< both channels may connect at once
  std::optional<net::ssl::context> tls_context;  ///< built on the first TLS connect
  Channel requests;
  Channel events;
  std::mutex version_mutex;
  std::optional<ApiVersion> version;

  explicit Impl(ClientOptions o) : options(std::move(o)) {}

  std::string where() const { return options.endpoint.to_string(); }

  std::optional<ApiVersion> api_version() {
    const std::lock_guard lock(version_mutex);
    return version;
  }

  Error not_connected(std::string_view target) const {
    return Error{
        Error::Kind::protocol,
        fmt::format("Docker at {}: GET {} before the API version was negotiated", where(), target)};
  }

  Error interrupted() const {
    return Error{Error::Kind::interrupted, fmt::format("Docker at {}: shutting down", where())};
  }

  /// The TLS context from the endpoint's files: only their CA is trusted when one is given.
  std::optional<std::string> prepare_tls_context() {
    const std::lock_guard lock(tls_mutex);
    if (tls_context) return std::nullopt;
    const TlsOptions& tls = *options.endpoint.tls;
    net::ssl::context context(net::ssl::context::tls_client);
    context.set_options(net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                        net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    const auto failed = [&](std::string_view what, const std::string& path) {
      return fmt::format("cannot load the {} {}: {}", what, path, ec.message());
    };
    if (tls.ca.empty()) {
      context.set_default_verify_paths(ec);
      if (ec) return failed("system CA certificates", "");
    } else if (context.load_verify_file(tls.ca, ec); ec) {
      return failed("CA certificate", tls.ca);
    }
    if (!tls.cert.empty() && (context.use_certificate_chain_file(tls.cert, ec), ec)) {
      return failed("client certificate", tls.cert);
    }
    if (!tls.key.empty() &&
        (context.use_private_key_file(tls.key, net::ssl::context::pem, ec), ec)) {
      return failed("client key", tls.key);
    }
    context.set_verify_mode(tls.insecure_skip_verify ? net::ssl::verify_none
                                                     : net::ssl::verify_peer);
    tls_context.emplace(std::move(context));
    return std::nullopt;
  }

  /// A new connection to the endpoint, TLS handshake done; within the connect timeout.
  Task<std::variant<Connection, Failure>> open(Channel& channel) {
    const Endpoint& endpoint = options.endpoint;
    const auto executor = channel.io.get_executor();
    beast::error_code ec;
    channel.arm(options.connect_timeout);
    const auto timed_out = [&] {
      return Failure{fmt::format("could not connect within {}", seconds(options.connect_timeout))};
    };

    if (endpoint.kind == Endpoint::Kind::unix_socket) {
      Connection connection{UnixSocket(executor), {}};
      channel.current = &connection;
      co_await std::get<UnixSocket>(connection.stream)
          .async_connect(net::local::stream_protocol::endpoint(endpoint.socket_path),
                         net::redirect_error(use_task, ec));
      channel.current = nullptr;
      if (channel.expired) co_return timed_out();
      if (ec) co_return Failure{"cannot connect to the socket: " + ec.message()};
      co_return std::move(connection);
    }

    // Brackets belong to the URL form of an IPv6 address, not to the address itself.
    std::string_view host = endpoint.host;
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    channel.resolver.emplace(executor);
    const auto addresses = co_await channel.resolver->async_resolve(
        host, std::to_string(endpoint.port), net::redirect_error(use_task, ec));
    channel.resolver.reset();
    if (channel.expired) co_return timed_out();
    if (ec) co_return Failure{fmt::format("cannot resolve {}: {}", host, ec.message())};

    Connection connection{TcpSocket(executor), {}};
    channel.current = &connection;
    auto& socket = std::get<TcpSocket>(connection.stream);
    co_await net::async_connect(socket, addresses, net::redirect_error(use_task, ec));
    if (!ec && endpoint.tls) {
      if (auto problem = prepare_tls_context()) {
        channel.current = nullptr;
        co_return Failure{*problem};
      }
      TcpSocket plain = std::move(socket);
      auto& tls = connection.stream.emplace<TlsStream>(std::move(plain), *tls_context);
      const std::string name(host);
      if (!endpoint.tls->insecure_skip_verify) {
        tls.set_verify_callback(net::ssl::host_name_verification(name));
      }
      if (!tls::set_server_name(tls.native_handle(), name)) {
        channel.current = nullptr;
        co_return Failure{"cannot set the TLS server name " + name};
      }
      co_await tls.async_handshake(net::ssl::stream_base::client,
                                   net::redirect_error(use_task, ec));
      if (ec && !channel.expired) {
        channel.current = nullptr;
        co_return Failure{"TLS handshake failed: " + ec.message()};
      }
    }
    channel.current = nullptr;
    if (channel.expired) co_return timed_out();
    if (ec) {
      co_return Failure{
          fmt::format("cannot connect to {}:{}: {}", endpoint.host, endpoint.port, ec.message())};
    }
    co_return std::move(connection);
  }

  /// One GET on `connection`: a 200 event stream goes to `sink`, anything else into the body.
  template <class Stream>
  Task<std::variant<Response, Failure>> exchange(Stream& stream, beast::flat_buffer& buffer,
                                                 const std::string& target, EventSink* sink) {
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, options.endpoint.host_header());
    request.set(http::field::user_agent, "berth");
    beast::error_code ec;
    co_await http::async_write(stream, request, net::redirect_error(use_task, ec));
    if (ec) co_return Failure{ec.message(), true};

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    co_await http::async_read_header(stream, buffer, parser, net::redirect_error(use_task, ec));
    if (ec) co_return Failure{ec.message(), buffer.size() == 0};

    Response response;
    response.status = parser.get().result_int();
    for (const auto& field : parser.get()) {
      response.headers[lower(field.name_string())] = std::string(field.value());
    }
    const bool streaming = sink != nullptr && response.status == 200;
    if (streaming) (*sink->on_connected)();
    std::array<char, 16 * 1024> piece;
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      co_await http::async_read_some(stream, buffer, parser, net::redirect_error(use_task, ec));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return Failure{ec.message()};
      const std::string_view bytes(piece.data(), piece.size() - parser.get().body().size);
      if (streaming) {
        sink->feed(bytes);
      } else if (response.body.size() + bytes.size() > max_body_bytes) {
        co_return Failure{fmt::format("the answer is larger than {} MiB", max_body_bytes >> 20)};
      } else {
        response.body.append(bytes);
      }
    }
    response.keep_alive = parser.keep_alive();
    co_return response;
  }

  Task<std::variant<Response, Failure>> exchange(Connection& connection, const std::string& target,
                                                 EventSink* sink) {
    co_return co_await std::visit(
        [&](auto& stream) { return exchange(stream, connection.buffer, target, sink); },
        connection.stream);
  }

  /// Sends the GET on the kept connection or a new one; a kept connection the daemon closed
  /// meanwhile is replaced once.
  Task<std::variant<Response, Failure>> transfer(Channel& channel, const std::string& target,
                                                 EventSink* sink) {
    const bool stream = sink != nullptr;
    std::optional<Connection> connection = std::move(channel.idle);
    channel.idle.reset();
    for (;;) {
      const bool reused = connection.has_value();
      if (!reused) {
        auto opened = co_await open(channel);
        if (auto* failure = std::get_if<Failure>(&opened)) co_return std::move(*failure);
        connection.emplace(std::move(std::get<Connection>(opened)));
      }
      channel.arm(stream ? std::chrono::milliseconds(0) : options.request_timeout);
      channel.current = &*connection;
      auto answer = co_await exchange(*connection, target, sink);
      channel.current = nullptr;
      channel.disarm();
      if (channel.expired) {
        co_return Failure{fmt::format("no answer within {}", seconds(options.request_timeout))};
      }
      if (auto* failure = std::get_if<Failure>(&answer)) {
        if (reused && failure->before_answer) {
          connection.reset();
          continue;
        }
        co_return std::move(*failure);
      }
      auto& response = std::get<Response>(answer);
      if (!stream && response.keep_alive) {
        channel.idle = std::move(connection);
      }
      co_return std::move(response);
    }
  }

  /// Runs one transfer to completion, failure or shutdown.
  Result<Response> perform(Channel& channel, const std::string& target, EventSink* sink = nullptr) {
    std::optional<std::variant<Response, Failure>> outcome;
    net::co_spawn(channel.io, transfer(channel, target, sink),
                  [&](std::exception_ptr error, std::variant<Response, Failure> result) {
                    // A deadline left armed would keep run() waiting for it.
                    channel.disarm();
                    if (error) {
                      outcome = Failure{"unexpected failure"};
                    } else {
                      outcome = std::move(result);
                    }
                  });
    {
      // Checked under the lock so that a shutdown() cannot slip between the check and restart().
      const std::lock_guard lock(stop_mutex);
      if (stopped) return interrupted();
      channel.io.restart();
    }
    channel.io.run();
    if (!outcome) return interrupted();
    if (auto* failure = std::get_if<Failure>(&*outcome)) {
      return Error{Error::Kind::connection,
                   fmt::format("Docker at {}: GET {}: {}", where(), target, failure->detail)};
    }
    return std::move(std::get<Response>(*outcome));
  }

  /// An error result for a non-2xx answer, naming the endpoint, the request and the daemon's words.
  Error http_error(const std::string& target, const Response& response) const {
    const Error::Kind kind = response.status == 404 ? Error::Kind::not_found : Error::Kind::http;
    return Error{kind, fmt::format("Docker at {}: GET {}: {} {}", where(), target, response.status,
                                   daemon_message(response.body))};
  }

  Result<DaemonInfo> connect() {
    // Unversioned: /_ping is how the version is found out.
    auto ping = perform(requests, "/_ping");
    if (auto* error = std::get_if<Error>(&ping)) return std::move(*error);
    auto& pong = std::get<Response>(ping);
    if (pong.status != 200) return http_error("/_ping", pong);

    DaemonInfo info;
    // Daemons too old to send the header speak 1.24 at most, as the Go SDK assumes.
    info.daemon_api_version = min_api_version;
    if (const auto it = pong.headers.find("api-version"); it != pong.headers.end()) {
      const auto parsed = parse_api_version(it->second);
      if (!parsed) {
        return Error{Error::Kind::protocol,
                     fmt::format("Docker at {}: unreadable Api-Version {:?}", where(), it->second)};
      }
      info.daemon_api_version = *parsed;
    }
    if (info.daemon_api_version < min_api_version) {
      return Error{
          Error::Kind::version,
          fmt::format("Docker at {} speaks API {} at most; berth needs at least {}", where(),
                      info.daemon_api_version.to_string(), min_api_version.to_string())};
    }
    info.api_version = std::min(info.daemon_api_version, max_api_version);

    const std::string target = fmt::format("/v{}/version", info.api_version.to_string());
    auto answer = perform(requests, target);
    if (auto* error = std::get_if<Error>(&answer)) return std::move(*error);
    auto& response = std::get<Response>(answer);
    if (response.status == 400) {
      // "client version X is too old/new": the daemon's own words say which way.
      return Error{Error::Kind::version,
                   fmt::format("Docker at {} refuses API {} (berth supports {} to {}): {}", where(),
                               info.api_version.to_string(), min_api_version.to_string(),
                               max_api_version.to_string(), daemon_message(response.body))};
    }
    if (response.status != 200) return http_error(target, response);
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (!body.is_object()) {
      return Error{
          Error::Kind::protocol,
          fmt::format("Docker at {}: GET {}: the answer is not a JSON object", where(), target)};
    }
    const auto text = [&](const char* key) {
      const auto it = body.find(key);
      return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    info.daemon_version = text("Version");
    info.daemon_min_api_version =
        parse_api_version(text("MinAPIVersion")).value_or(min_api_version);
    if (const auto api = parse_api_version(text("ApiVersion"))) info.daemon_api_version = *api;
    if (info.daemon_min_api_version > max_api_version) {
      return Error{
          Error::Kind::version,
          fmt::format("Docker {} at {} requires API {} or newer; berth supports up to {}",
                      info.daemon_version, where(), info.daemon_min_api_version.to_string(),
                      max_api_version.to_string())};
    }
    if (const auto it = response.headers.find("date"); it != response.headers.end()) {
      info.daemon_time_nano = parse_http_date(it->second);
    }
    const std::lock_guard lock(version_mutex);
    version = info.api_version;
    return info;
  }

  Result<std::vector<std::string>> list_containers() {
    const auto api = api_version();
    if (!api) return not_connected("/containers/json");
    const std::string target = fmt::format("/v{}/containers/json?all=1", api->to_string());
    auto answer = perform(requests, target);
    if (auto* error = std::get_if<Error>(&answer)) return std::move(*error);
    auto& response = std::get<Response>(answer);
    if (response.status != 200) return http_error(target, response);
    auto ids = parse_container_list(response.body);
    if (auto* error = std::get_if<Error>(&ids)) {
      error->message = fmt::format("Docker at {}: GET {}: {}", where(), target, error->message);
    }
    return ids;
  }

  Result<labels::ContainerInfo> inspect_container(std::string_view id) {
    const auto api = api_version();
    if (!api) return not_connected("/containers/{id}/json");
    const std::string target =
        fmt::format("/v{}/containers/{}/json", api->to_string(), percent_encode(id));
    auto answer = perform(requests, target);
    if (auto* error = std::get_if<Error>(&answer)) return std::move(*error);
    auto& response = std::get<Response>(answer);
    if (response.status != 200) return http_error(target, response);
    auto info = parse_inspect(response.body);
    if (auto* error = std::get_if<Error>(&info)) {
      error->message = fmt::format("Docker at {}: GET {}: {}", where(), target, error->message);
    }
    return info;
  }

  Result<Done> stream_events(std::int64_t since_nano,
                             const std::function<void(const Event&)>& on_event,
                             const std::function<void()>& on_connected) {
    const auto api = api_version();
    if (!api) return not_connected("/events");
    const std::string target =
        fmt::format("/v{}/events?since={}&filters={}", api->to_string(), format_since(since_nano),
                    percent_encode(R"({"type":["container","network"]})"));
    EventSink sink{&on_event, &on_connected, {}};
    auto answer = perform(events, target, &sink);
    if (auto* error = std::get_if<Error>(&answer)) return std::move(*error);
    auto& response = std::get<Response>(answer);
    if (response.status != 200) return http_error(target, response);
    return Done{};
  }

  void shutdown() {
    {
      const std::lock_guard lock(stop_mutex);
      stopped = true;
    }
    requests.io.stop();
    events.io.stop();
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

Result<DaemonInfo> Client::connect() {
  return impl_->connect();
}
Result<std::vector<std::string>> Client::list_containers() {
  return impl_->list_containers();
}
Result<labels::ContainerInfo> Client::inspect_container(std::string_view id) {
  return impl_->inspect_container(id);
}
Result<Done> Client::stream_events(std::int64_t since_nano,
                                   const std::function<void(const Event&)>& on_event,
                                   const std::function<void()>& on_connected) {
  return impl_->stream_events(since_nano, on_event, on_connected);
}
void Client::shutdown() {
  impl_->shutdown();
}

}  // namespace berth::docker
