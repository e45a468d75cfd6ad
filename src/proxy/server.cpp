#include "berth/proxy/server.hpp"

#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <future>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "worker.hpp"

namespace berth::proxy {
namespace {

using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

bool ipv6_available() {
  net::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.open(tcp::v6(), ec);
  return !ec;
}

/// ":80", "0.0.0.0:80", "[::1]:8080", "localhost:0", with an optional "/tcp" suffix.
tcp::endpoint parse_listen_address(std::string_view address) {
  constexpr std::string_view tcp_suffix = "/tcp";
  if (address.size() > tcp_suffix.size() &&
      address.substr(address.size() - tcp_suffix.size()) == tcp_suffix) {
    address.remove_suffix(tcp_suffix.size());
  } else if (address.find('/') != std::string_view::npos) {
    throw std::invalid_argument("entry point address \"" + std::string(address) +
                                "\": only TCP is supported");
  }
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    throw std::invalid_argument("entry point address \"" + std::string(address) + "\" has no port");
  }
  std::string_view host = address.substr(0, colon);
  const std::string port(address.substr(colon + 1));
  unsigned long port_number = 0;
  try {
    std::size_t used = 0;
    port_number = std::stoul(port, &used);
    if (used != port.size() || port_number > 65535) throw std::out_of_range(port);
  } catch (const std::exception&) {
    throw std::invalid_argument("entry point address \"" + std::string(address) +
                                "\" has an invalid port");
  }
  const auto port16 = static_cast<std::uint16_t>(port_number);
  if (host.empty()) {
    return ipv6_available() ? tcp::endpoint(tcp::v6(), port16) : tcp::endpoint(tcp::v4(), port16);
  }
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  auto ip = net::ip::make_address(host, ec);
  if (!ec) return {ip, port16};
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, port);  // throws at start-up when the name is unknown
  return results.begin()->endpoint();
}

/// Whether an idle pooled connection has something to read: then the server closed it (or
/// misbehaves) and it must not carry a request. Checked when taken rather than watched while
/// idle, as a watch costs an epoll_ctl and a cancellation on every request.
bool readable(Socket& socket) {
  char probe = 0;
  const auto n = ::recv(socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return {};
  return name.data();
}

/// A tenth of the shortest idle timeout, within [5 ms, 1 s]: a connection closes at most that
/// late. Zero when no idle timeout is set.
std::chrono::milliseconds sweep_period(const ServerOptions& options) {
  std::chrono::milliseconds shortest = options.transport.idle_conn_timeout;
  for (const auto& entry_point : options.entry_points) {
    if (entry_point.idle_timeout.count() > 0 &&
        (shortest.count() <= 0 || entry_point.idle_timeout < shortest)) {
      shortest = entry_point.idle_timeout;
    }
  }
  if (shortest.count() <= 0) return {};
  return std::clamp<std::chrono::milliseconds>(shortest / 10, std::chrono::milliseconds{5},
                                               std::chrono::seconds{1});
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// UpstreamPool

std::shared_ptr<UpstreamConnection> UpstreamPool::take(const std::string& key, bool probe) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    auto connection = std::move(list.back());
    list.pop_back();
    connection->idle = false;
    if (!connection->stream.socket().is_open()) continue;
    // A connection idle for a while is checked anyway: that is when servers close them.
    constexpr auto recently = std::chrono::seconds{1};
    const bool check =
        probe || std::chrono::steady_clock::now() - connection->idle_since >= recently;
    if (!check || !readable(connection->stream.socket())) return connection;
    beast::error_code ignored;
    connection->stream.socket().close(ignored);
  }
  return nullptr;
}

void UpstreamPool::put(std::shared_ptr<UpstreamConnection> connection) {
  // Unsolicited bytes after a response mean the connection is out of step: never reuse it.
  if (!connection->stream.socket().is_open() || connection->buffer.size() > 0 ||
      options_.max_idle_conns_per_host == 0) {
    return;
  }
  auto& list = idle_[connection->key];
  if (list.size() >= options_.max_idle_conns_per_host) {
    beast::error_code ignored;
    list.front()->idle = false;
    list.front()->stream.socket().close(ignored);
    list.erase(list.begin());
  }
  connection->idle = true;
  connection->idle_since = std::chrono::steady_clock::now();
  list.push_back(std::move(connection));
}

void UpstreamPool::close_expired(std::chrono::steady_clock::time_point now) {
  if (options_.idle_conn_timeout.count() <= 0) return;
  const auto parked_before = now - options_.idle_conn_timeout;
  for (auto it = idle_.begin(); it != idle_.end();) {
    // Parked in order, so the expired ones lead.
    auto& list = it->second;
    const auto fresh = std::find_if(list.begin(), list.end(), [&](const auto& connection) {
      return connection->idle_since > parked_before;
    });
    for (auto expired = list.begin(); expired != fresh; ++expired) {
      (*expired)->idle = false;
      beast::error_code ignored;
      (*expired)->stream.socket().close(ignored);
    }
    list.erase(list.begin(), fresh);
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
}

void UpstreamPool::clear() {
  for (auto& [key, list] : idle_) {
    for (auto& connection : list) {
      connection->idle = false;
      beast::error_code ignored;
      connection->stream.socket().close(ignored);
    }
  }
  idle_.clear();
}

std::size_t UpstreamPool::idle_count() const noexcept {
  std::size_t count = 0;
  for (const auto& [key, list] : idle_) count += list.size();
  return count;
}

// -----------------------------------------------------------------------------------------------
// Worker

Worker::Worker(const ServerOptions& options, const std::string& server_name,
               tls::ClientContext& upstream_tls)
    : options_(options),
      server_name_(server_name),
      upstream_tls_(upstream_tls),
      pool_(options.transport) {
  acceptors_.resize(options.entry_points.size());
  state_.tables.assign(options.entry_points.size(), nullptr);
  state_.tls_tables.assign(options.entry_points.size(), nullptr);
  for (const auto& entry_point : options.entry_points) {
    selectors_.emplace_back([this, name = entry_point.name](std::string_view server_name_sni) {
      const auto& snapshot = state_.snapshot;
      return snapshot ? std::string(snapshot->tls_options_for(name, server_name_sni))
                      : std::string("default");
    });
  }
}

std::unique_ptr<RelayBuffer> Worker::acquire_buffer() {
  // Not zeroed: pages of a buffer are touched only as far as it is used.
  if (spare_buffers_.empty()) return std::make_unique_for_overwrite<RelayBuffer>();
  auto buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

/// Enough spares for a burst of concurrent exchanges; beyond that memory goes back.
constexpr std::size_t max_spare_buffers = 64;

void Worker::release_buffer(std::unique_ptr<RelayBuffer> buffer) {
  if (buffer && spare_buffers_.size() < max_spare_buffers) {
    spare_buffers_.push_back(std::move(buffer));
  }
}

beast::flat_buffer Worker::acquire_read_buffer() {
  if (spare_read_buffers_.empty()) {
    beast::flat_buffer buffer;
    buffer.reserve(read_buffer_size);
    return buffer;
  }
  auto buffer = std::move(spare_read_buffers_.back());
  spare_read_buffers_.pop_back();
  return buffer;
}

void Worker::release_read_buffer(beast::flat_buffer buffer) {
  // One that grew for a large header is not kept.
  if (buffer.capacity() == read_buffer_size && spare_read_buffers_.size() < max_spare_buffers) {
    buffer.clear();
    spare_read_buffers_.push_back(std::move(buffer));
  }
}

void Worker::install(std::shared_ptr<const runtime::Snapshot> snapshot) {
  WorkerState next;
  next.balancer = std::make_unique<runtime::Balancer>(snapshot);
  for (const auto& entry_point : options_.entry_points) {
    next.tables.push_back(snapshot->routes(entry_point.name));
    next.tls_tables.push_back(snapshot->tls_routes(entry_point.name));
  }
  next.snapshot = std::move(snapshot);
  state_ = std::move(next);
}

void Worker::listen(std::size_t index, const tcp::endpoint& endpoint, bool reuse) {
  auto acceptor = std::make_unique<tcp::acceptor>(ioc_);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(net::socket_base::reuse_address(true));
  if (reuse) acceptor->set_option(reuse_port(true));
  // ":80" binds "::" and takes IPv4 too.
  if (endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
    acceptor->set_option(net::ip::v6_only(false));
  }
  acceptor->bind(endpoint);
  acceptor->listen(net::socket_base::max_listen_connections);
  acceptors_[index] = std::move(acceptor);
}

std::uint16_t Worker::bound_port(std::size_t index) const {
  return acceptors_[index]->local_endpoint().port();
}

void Worker::start_accepting() {
  for (std::size_t i = 0; i < acceptors_.size(); ++i) do_accept(i);
}

void Worker::do_accept(std::size_t index) {
  acceptors_[index]->async_accept(ioc_, [this, index](beast::error_code ec, Socket socket) {
    if (draining_ || !acceptors_[index]->is_open()) return;
    if (!ec) {
      start_session(*this, index, std::move(socket));
      return do_accept(index);
    }
    // Out of descriptors and the like: back off briefly instead of spinning.
    auto timer = std::make_shared<net::steady_timer>(ioc_, std::chrono::milliseconds(50));
    timer->async_wait([this, index, timer](beast::error_code) {
      if (!draining_) do_accept(index);
    });
  });
}

void Worker::start_sweeping() {
  const auto period = sweep_period(options_);
  if (period.count() == 0 || draining_) return;
  sweep_timer_.expires_after(period);
  sweep_timer_.async_wait([this](beast::error_code ec) {
    if (ec || draining_) return;
    const auto now = std::chrono::steady_clock::now();
    pool_.close_expired(now);
    for (Session* session : sessions_) close_if_idle_expired(*session, now);
    start_sweeping();
  });
}

void Worker::drain() {
  draining_ = true;
  sweep_timer_.cancel();
  for (auto& acceptor : acceptors_) {
    beast::error_code ignored;
    if (acceptor) acceptor->close(ignored);
  }
  pool_.clear();
  const std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
  for (Session* session : sessions) close_if_idle(*session);
}

// -----------------------------------------------------------------------------------------------
// Server

struct Server::Impl {
  ServerOptions options;
  std::string server_name;
  std::unique_ptr<tls::ClientContext> upstream_tls;  ///< outlives the workers, which share it
  std::unique_ptr<AccessLog> access_log;  ///< outlives the workers, whose sessions write to it
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::optional<net::executor_work_guard<net::io_context::executor_type>>> guards;
  std::vector<std::thread> threads;
  std::vector<std::uint16_t> ports;
  bool started = false;
  bool stopped = false;
  /// Guards `running` against collect_metrics: while the threads run, only they read their tables.
  mutable std::mutex lifecycle;
  bool running = false;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  auto& opts = impl_->options;
  if (opts.workers == 0) opts.workers = std::max(1U, std::thread::hardware_concurrency());
  impl_->server_name = opts.server_name.empty() ? host_name() : opts.server_name;
  std::vector<std::string> tls_errors;
  impl_->upstream_tls = std::make_unique<tls::ClientContext>(opts.transport.insecure_skip_verify,
                                                             opts.transport.root_cas, tls_errors);
  if (!tls_errors.empty()) throw std::invalid_argument(tls_errors.front());
  auto tls_store = tls::Store::build({}).store;
  if (opts.access_log) {
    impl_->access_log = std::make_unique<AccessLog>(*opts.access_log, opts.workers);
  }
  for (unsigned i = 0; i < opts.workers; ++i) {
    impl_->workers.push_back(
        std::make_unique<Worker>(opts, impl_->server_name, *impl_->upstream_tls));
    impl_->workers.back()->set_tls(tls_store);
    impl_->workers.back()->access_log = impl_->access_log.get();
    impl_->workers.back()->number = i;
  }
  // Port 0: the first worker picks the port, the others join it through SO_REUSEPORT.
  for (std::size_t e = 0; e < opts.entry_points.size(); ++e) {
    auto endpoint = parse_listen_address(opts.entry_points[e].address);
    for (auto& worker : impl_->workers) {
      worker->listen(e, endpoint, true);
      endpoint.port(worker->bound_port(e));
    }
    impl_->ports.push_back(endpoint.port());
  }
  // Redirections to an entry point take its bound port (so port 0 works in tests).
  for (auto& entry_point : opts.entry_points) {
    if (!entry_point.redirect || entry_point.redirect->entry_point.empty()) continue;
    auto port = this->port(entry_point.redirect->entry_point);
    if (!port) {
      throw std::invalid_argument("entry point \"" + entry_point.name + "\" redirects to \"" +
                                  entry_point.redirect->entry_point +
                                  "\", which is not an entry point");
    }
    entry_point.redirect->port = *port;
  }
}

Server::~Server() {
  stop(std::chrono::milliseconds(0));
}

void Server::start() {
  if (impl_->started) return;
  impl_->started = true;
  const std::lock_guard lock(impl_->lifecycle);
  impl_->running = true;
  for (auto& worker : impl_->workers) {
    impl_->guards.emplace_back(net::make_work_guard(worker->context()));
    Worker* w = worker.get();
    net::post(w->context(), [w] {
      w->start_accepting();
      w->start_sweeping();
    });
    impl_->threads.emplace_back([w] {
      // Handlers report errors through error codes; anything thrown is a bug in one request and
      // must not take the worker down.
      for (;;) {
        try {
          w->context().run();
          return;
        } catch (const std::exception&) {
          continue;
        }
      }
    });
  }
}

void Server::publish(std::shared_ptr<const runtime::Snapshot> snapshot) {
  if (!snapshot) return;
  for (auto& worker : impl_->workers) {
    Worker* w = worker.get();
    net::post(w->context(), [w, snapshot] { w->install(snapshot); });
  }
}

void Server::set_tls(std::shared_ptr<const tls::Store> store) {
  if (!store) return;
  for (auto& worker : impl_->workers) {
    Worker* w = worker.get();
    net::post(w->context(), [w, store] { w->set_tls(store); });
  }
}

std::optional<std::uint16_t> Server::port(std::string_view entry_point) const {
  const auto& entry_points = impl_->options.entry_points;
  for (std::size_t i = 0; i < entry_points.size(); ++i) {
    if (entry_points[i].name == entry_point) return impl_->ports[i];
  }
  return std::nullopt;
}

void Server::stop(std::chrono::milliseconds grace) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (!impl_->started) return;
  for (auto& worker : impl_->workers) {
    Worker* w = worker.get();
    net::post(w->context(), [w] { w->drain(); });
  }
  for (auto& guard : impl_->guards) guard.reset();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::lock_guard lock(impl_->lifecycle);
  for (auto& worker : impl_->workers) worker->context().stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  impl_->running = false;
}

std::size_t Server::connections() const noexcept {
  std::size_t total = 0;
  for (const auto& worker : impl_->workers) total += worker->connections.load();
  return total;
}

unsigned Server::workers() const noexcept {
  return impl_->options.workers;
}

MetricsSnapshot Server::collect_metrics(std::chrono::milliseconds timeout) const {
  std::vector<MetricsSnapshot> parts;
  {
    const std::lock_guard lock(impl_->lifecycle);
    if (!impl_->running) {
      for (const auto& worker : impl_->workers) worker->metrics.collect(parts.emplace_back());
    } else {
      std::vector<std::future<MetricsSnapshot>> pending;
      for (const auto& worker : impl_->workers) {
        auto promise = std::make_shared<std::promise<MetricsSnapshot>>();
        pending.push_back(promise->get_future());
        Worker* w = worker.get();
        net::post(w->context(), [w, promise] {
          MetricsSnapshot part;
          w->metrics.collect(part);
          promise->set_value(std::move(part));
        });
      }
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      for (auto& part : pending) {
        if (part.wait_until(deadline) != std::future_status::ready) continue;
        try {
          parts.push_back(part.get());
        } catch (const std::future_error&) {
          // The worker's io_context went away with the handler (shutdown).
        }
      }
    }
  }
  MetricsSnapshot merged = merge_metrics(parts);
  if (impl_->access_log) {
    merged.access_log_dropped = impl_->access_log->dropped();
    merged.access_log_written = impl_->access_log->written();
  }
  return merged;
}

void Server::flush_access_log() const {
  if (impl_->access_log) impl_->access_log->flush();
}

}  // namespace berth::proxy
