// Active health checks on one thread: a Target per (server URL, check definition) with its own
// timer, and a Probe per request (fresh connection, header only, one deadline over redirects).

#include "berth/health/checker.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "berth/config/duration.hpp"
#include "berth/log/log.hpp"
#include "berth/tls/store.hpp"

namespace berth::health {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

/// Go's http.Client stops after 10 redirects; so does a probe.
constexpr int max_redirects = 10;

/// Where one probe request goes.
struct Location {
  bool tls = false;
  std::string host;  ///< without brackets
  std::uint16_t port = 80;
  bool explicit_port = false;
  std::string target = "/";  ///< origin form: path and query
  std::string authority() const {
    const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return explicit_port ? name + ":" + std::to_string(port) : name;
  }
};

/// "http(s)://authority[/path][?query]"; the fragment is dropped.
std::optional<Location> parse_absolute(std::string_view url) {
  Location out;
  if (url.starts_with("https://")) {
    out.tls = true;
    out.port = 443;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  const auto slash = url.find_first_of("/?#");
  const std::string_view authority = url.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? "" : url.substr(slash);
  rest = rest.substr(0, rest.find('#'));
  if (!rest.empty()) out.target = rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    if (authority.size() > close + 1) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return std::nullopt;
  out.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
    out.explicit_port = true;
  }
  return out;
}

/// A reference resolved against a base path as Go's URL.Parse does for the common cases: an
/// absolute path replaces it, a relative one replaces its last segment.
std::string resolve_path(std::string_view base, std::string_view reference) {
  if (reference.empty()) return std::string(base);
  if (reference.front() == '/') return std::string(reference);
  const std::string_view path = base.substr(0, base.find('?'));
  const auto last = path.rfind('/');
  return std::string(last == std::string_view::npos ? "/" : path.substr(0, last + 1)) +
         std::string(reference);
}

/// The first request of a probe: the server's URL with the check's scheme, port and path.
std::optional<Location> probe_location(std::string_view server_url,
                                       const runtime::ActiveCheck& check) {
  auto location = parse_absolute(server_url);
  if (!location) return std::nullopt;
  if (!check.scheme.empty()) {
    location->tls = check.scheme == "https";
    if (!location->explicit_port) location->port = location->tls ? 443 : 80;
  }
  if (check.port != 0) {
    location->port = check.port;
    location->explicit_port = true;
  }
  location->target = resolve_path(location->target, check.path);
  return location;
}

/// A canonical text of a check, so that an unchanged definition keeps its target across updates.
std::string describe(const runtime::ActiveCheck& check) {
  std::string out = check.scheme + '|' + check.path + '|' + check.method + '|' +
                    std::to_string(check.status) + '|' + std::to_string(check.port) + '|' +
                    check.hostname + '|' + std::to_string(check.interval.count()) + '|' +
                    std::to_string(check.unhealthy_interval.count()) + '|' +
                    std::to_string(check.timeout.count()) + '|' +
                    (check.follow_redirects ? "1" : "0");
  for (const auto& [name, value] : check.headers) {
    out += '|';
    out += name;
    out += ':';
    out += value;
  }
  return out;
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// One health check request, following redirects, under one deadline.
class Probe : public std::enable_shared_from_this<Probe> {
 public:
  using Done = std::function<void(bool healthy, const std::string& reason)>;

  Probe(net::io_context& ioc, tls::ClientContext& tls_context, bool insecure_skip_verify,
        const runtime::ActiveCheck& check, Location location, Done done)
      : ioc_(ioc),
        tls_context_(tls_context),
        insecure_skip_verify_(insecure_skip_verify),
        check_(check),
        location_(std::move(location)),
        method_(check.method),
        host_(check.hostname.empty() ? location_.authority() : check.hostname),
        deadline_(ioc),
        resolver_(ioc),
        done_(std::move(done)) {}

  void start() {
    deadline_.expires_after(check_.timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->timed_out_ = true;
      self->resolver_.cancel();
      beast::error_code ignored;
      self->tcp_layer().socket().close(ignored);
    });
    connect();
  }

 private:
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

  beast::tcp_stream& tcp_layer() {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) return tls->next_layer();
    return std::get<beast::tcp_stream>(stream_);
  }

  void connect() {
    // A redirect answered just as the deadline passed.
    if (timed_out_) return fail(net::error::timed_out, "");
    stream_.emplace<beast::tcp_stream>(ioc_);
    buffer_.clear();
    beast::error_code not_address;
    const auto address = net::ip::make_address(location_.host, not_address);
    if (!not_address) {
      return tcp_layer().async_connect(
          tcp::endpoint(address, location_.port),
          [self = shared_from_this()](beast::error_code ec) { self->on_connect(ec); });
    }
    resolver_.async_resolve(location_.host, std::to_string(location_.port),
                            [self = shared_from_this()](
                                beast::error_code ec, const tcp::resolver::results_type& results) {
                              if (ec)
                                return self->fail(ec, "cannot resolve " + self->location_.host);
                              self->tcp_layer().async_connect(
                                  results, [self](beast::error_code error, const tcp::endpoint&) {
                                    self->on_connect(error);
                                  });
                            });
  }

  void on_connect(beast::error_code ec) {
    if (ec) return fail(ec, "cannot connect to " + location_.authority());
    if (!location_.tls) return send();
    auto plain = std::move(std::get<beast::tcp_stream>(stream_));
    auto& tls = stream_.emplace<TlsStream>(std::move(plain), tls_context_.get());
    if (!tls::set_server_name(tls.native_handle(), location_.host)) {
      return finish(false, "cannot set the TLS server name " + location_.host);
    }
    if (!insecure_skip_verify_) {
      tls.set_verify_callback(net::ssl::host_name_verification(location_.host));
    }
    tls.async_handshake(net::ssl::stream_base::client,
                        [self = shared_from_this()](beast::error_code error) {
                          if (error) return self->fail(error, "TLS handshake failed");
                          self->send();
                        });
  }

  void send() {
    request_ = {};
    request_.version(11);
    request_.method_string(method_);
    request_.target(location_.target);
    for (const auto& [name, value] : check_.headers) request_.set(name, value);
    // Go never sends a Host from the headers: the URL's, or the check's hostname.
    request_.set(http::field::host, host_);
    request_.set(http::field::connection, "close");
    parser_.emplace();
    std::visit(
        [this](auto& stream) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(stream)>, std::monostate>) {
            http::async_write(stream, request_,
                              [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                if (ec) return self->fail(ec, "cannot send the request");
                                self->read();
                              });
          }
        },
        stream_);
  }

  void read() {
    std::visit(
        [this](auto& stream) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(stream)>, std::monostate>) {
            http::async_read_header(stream, buffer_, *parser_,
                                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                      if (ec) return self->fail(ec, "no response");
                                      self->on_response();
                                    });
          }
        },
        stream_);
  }

  void on_response() {
    const auto& response = parser_->get();
    const unsigned status = response.result_int();
    close();
    if (check_.follow_redirects && is_redirect(status)) {
      if (auto next = redirect(response[http::field::location], status)) {
        if (++redirects_ > max_redirects) {
          return finish(false, "stopped after " + std::to_string(max_redirects) + " redirects");
        }
        location_ = std::move(*next);
        return connect();
      }
    }
    const bool healthy = check_.status != 0 ? static_cast<std::int64_t>(status) == check_.status
                                            : status >= 200 && status < 400;
    finish(healthy, "received status " + std::to_string(status));
  }

  /// The next request of a redirect; none when Location is missing or unusable (Go then returns
  /// the redirect response itself).
  std::optional<Location> redirect(std::string_view location, unsigned status) {
    if (location.empty()) return std::nullopt;
    // Go turns these into GET (HEAD stays HEAD); 307 and 308 keep the method.
    if ((status == 301 || status == 302 || status == 303) && method_ != "HEAD") method_ = "GET";
    if (location.starts_with("//")) {
      const std::string absolute = (location_.tls ? "https:" : "http:") + std::string(location);
      return with_host(parse_absolute(absolute));
    }
    if (location.starts_with("http://") || location.starts_with("https://")) {
      return with_host(parse_absolute(location));
    }
    Location next = location_;
    next.target = resolve_path(location_.target, location);
    return next;
  }

  /// Another host: the Host header becomes its own.
  std::optional<Location> with_host(std::optional<Location> next) {
    if (next && (next->host != location_.host || next->port != location_.port)) {
      host_ = next->authority();
    }
    return next;
  }

  void fail(beast::error_code ec, const std::string& what) {
    if (timed_out_) {
      return finish(false, "no response within " + config::format_duration(check_.timeout));
    }
    finish(false, what + ": " + ec.message());
  }

  void close() {
    if (std::holds_alternative<std::monostate>(stream_)) return;
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().socket().close(ignored);
  }

  void finish(bool healthy, const std::string& reason) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    close();
    done_(healthy, reason);
  }

  net::io_context& ioc_;
  tls::ClientContext& tls_context_;
  const bool insecure_skip_verify_;
  const runtime::ActiveCheck check_;
  Location location_;
  std::string method_;
  std::string host_;
  net::steady_timer deadline_;
  tcp::resolver resolver_;
  std::variant<std::monostate, beast::tcp_stream, TlsStream> stream_;
  http::request<http::empty_body> request_;
  std::optional<http::response_parser<http::empty_body>> parser_;
  beast::flat_buffer buffer_;
  Done done_;
  int redirects_ = 0;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

struct Checker::Impl {
  /// One server probed with one check definition; lives on the checker's thread only.
  struct Target : std::enable_shared_from_this<Target> {
    Target(Impl& checker, std::string server_url, runtime::ActiveCheck definition)
        : owner(checker),
          url(std::move(server_url)),
          check(std::move(definition)),
          health(checker.registry.acquire(url)),
          timer(checker.ioc) {}

    void probe() {
      auto location = probe_location(url, check);
      if (!location) return on_result(false, "the server URL cannot be probed");
      auto self = shared_from_this();
      std::make_shared<Probe>(
          owner.ioc, *owner.tls_context, owner.options.insecure_skip_verify, check,
          std::move(*location),
          [self](bool healthy, const std::string& reason) { self->on_result(healthy, reason); })
          ->start();
    }

    void on_result(bool healthy, const std::string& reason) {
      if (stopped) return;
      const bool was = health->up.exchange(healthy, std::memory_order_relaxed);
      if (was != healthy) {
        if (healthy) {
          log::info("health", "server {} of service {} is up again", url, services);
        } else {
          log::info("health", "server {} of service {} is down: {}", url, services, reason);
        }
      } else if (!healthy) {
        log::debug("health", "server {} of service {} is still down: {}", url, services, reason);
      }
      timer.expires_after(healthy ? check.interval : check.unhealthy_interval);
      timer.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec && !self->stopped) self->probe();
      });
      if (was != healthy && owner.on_change) owner.on_change();
    }

    void stop() {
      stopped = true;
      timer.cancel();
    }

    Impl& owner;
    const std::string url;
    const runtime::ActiveCheck check;
    std::string services;  ///< the services it serves, for the logs
    std::shared_ptr<runtime::ServerHealth> health;
    net::steady_timer timer;
    bool stopped = false;
  };

  struct Wanted {
    std::string url;
    runtime::ActiveCheck check;
    std::set<std::string> services;
  };

  Impl(runtime::HealthRegistry& health_registry, OnChange change_callback,
       CheckerOptions checker_options)
      : registry(health_registry),
        on_change(std::move(change_callback)),
        options(std::move(checker_options)) {
    std::vector<std::string> errors;
    tls_context = std::make_unique<tls::ClientContext>(options.insecure_skip_verify,
                                                       options.root_cas, errors);
    if (!errors.empty()) throw std::invalid_argument(errors.front());
  }

  /// On the checker's thread: starts, keeps or stops targets to match `wanted`.
  void apply(const std::map<std::string, Wanted>& wanted) {
    std::set<std::string> released;
    for (auto it = targets.begin(); it != targets.end();) {
      if (wanted.contains(it->first)) {
        ++it;
        continue;
      }
      it->second->stop();
      released.insert(it->second->url);
      it = targets.erase(it);
    }
    for (const auto& [key, want] : wanted) {
      auto& target = targets[key];
      const std::string services = fmt::format("{}", fmt::join(want.services, ", "));
      const bool fresh = !target;
      if (fresh) {
        target = std::make_shared<Target>(*this, want.url, want.check);
        log::debug("health", "checking server {} of service {}", want.url, services);
      }
      target->services = services;
      // Checked at once, not after an interval: a new server that is down is found quickly.
      if (fresh) target->probe();
    }
    // A server that stays but is no longer checked is no longer held down by the check.
    bool changed = false;
    for (const std::string& url : released) {
      const bool still_checked = std::any_of(targets.begin(), targets.end(),
                                             [&](const auto& t) { return t.second->url == url; });
      if (still_checked) continue;
      if (auto state = registry.find(url); state && !state->up.exchange(true)) changed = true;
    }
    if (changed && on_change) on_change();
  }

  /// The data plane takes servers out and lets them back without telling anyone; this finds out.
  void watch_passive() {
    passive_timer.expires_after(options.passive_scan);
    passive_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      bool changed = false;
      std::set<std::string> out;
      for (const auto& [url, state] : registry.entries()) {
        const bool is_out = state->passive_out();
        if (is_out) out.insert(url);
        if (is_out == passive_out.contains(url)) continue;
        changed = true;
        if (is_out) {
          log::info("health", "server {} is down: requests to it failed (passive health check)",
                    url);
        } else {
          log::info("health", "server {} is back after its failure window", url);
        }
      }
      passive_out = std::move(out);
      if (changed && on_change) on_change();
      watch_passive();
    });
  }

  runtime::HealthRegistry& registry;
  OnChange on_change;
  CheckerOptions options;
  std::unique_ptr<tls::ClientContext> tls_context;  ///< built by the first https probe
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  std::map<std::string, std::shared_ptr<Target>> targets;
  net::steady_timer passive_timer{ioc};
  std::set<std::string> passive_out;  ///< servers the last scan found taken out
  std::thread thread;
};

Checker::Checker(runtime::HealthRegistry& registry, OnChange on_change, CheckerOptions options)
    : impl_(std::make_unique<Impl>(registry, std::move(on_change), std::move(options))) {
  impl_->watch_passive();
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

Checker::~Checker() {
  stop();
}

void Checker::update(const config::Configuration& configuration) {
  std::map<std::string, Impl::Wanted> wanted;
  for (const auto& [name, service] : configuration.http.services) {
    const auto* lb = std::get_if<config::LoadBalancer>(&service.kind);
    if (lb == nullptr || !lb->health_check) continue;
    // A bad check is reported with the service by the snapshot build.
    auto check = runtime::resolve_health_check(*lb->health_check);
    if (!std::holds_alternative<runtime::ActiveCheck>(check)) continue;
    const auto& active = std::get<runtime::ActiveCheck>(check);
    const std::string definition = describe(active);
    for (const auto& server : lb->servers) {
      auto& want = wanted[server.url + '\n' + definition];
      want.url = server.url;
      want.check = active;
      want.services.insert(name);
    }
  }
  net::post(impl_->ioc, [impl = impl_.get(), wanted = std::move(wanted)] { impl->apply(wanted); });
}

void Checker::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
  for (auto& [key, target] : impl_->targets) target->stop();
  impl_->passive_timer.cancel();
}

}  // namespace berth::health
