#pragma once
// Private to the proxy: one worker (io_context + acceptors + upstream pool + current snapshot) and
// the client session that runs on it.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "berth/middleware/message.hpp"
#include "berth/proxy/server.hpp"
#include "berth/runtime/balancer.hpp"
#include "berth/tls/store.hpp"
#include "metrics_table.hpp"
#include "stream.hpp"
#include "wire.hpp"

namespace berth::proxy {

/// Beast reads max(512, free capacity) at a time: a roomy buffer takes what is there in one call.
constexpr std::size_t read_buffer_size = 16 * 1024;
/// Bodies are relayed in pieces of up to this much, and upstream connections read into a buffer
/// of this size: a 16 KiB response and its head arrive in one read and leave in one write.
constexpr std::size_t relay_size = 64 * 1024;

/// A keep-alive connection to one upstream server; lives in a worker's pool while idle.
struct UpstreamConnection {
  explicit UpstreamConnection(net::io_context& ioc) : stream(ioc) { buffer.reserve(relay_size); }
  Stream stream;              ///< TLS for https:// servers
  beast::flat_buffer buffer;  ///< bytes read past the last response stay with the connection
  std::string key;
  std::chrono::steady_clock::time_point idle_since;
  bool idle = false;
};

/// Idle upstream connections of one worker, per "host:port", bounded and expiring.
class UpstreamPool {
 public:
  explicit UpstreamPool(const TransportOptions& options) : options_(options) {}

  /// The most recently used idle connection for `key`, or null. One the server has closed (or
  /// sent unsolicited bytes on) is dropped for the next: checked, at a system call each, when
  /// `probe` or when it was idle for a while.
  std::shared_ptr<UpstreamConnection> take(const std::string& key, bool probe);
  /// Parks a connection whose last exchange ended cleanly.
  void put(std::shared_ptr<UpstreamConnection> connection);
  /// Closes the connections idle for the idle connection timeout by `now` (the worker's sweep).
  void close_expired(std::chrono::steady_clock::time_point now);
  void clear();
  std::size_t idle_count() const noexcept;

 private:
  const TransportOptions& options_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<UpstreamConnection>>> idle_;
};

/// The handler memory of the read an idle keep-alive connection waits with: a block of a pool
/// (anything larger comes from the heap). Asio's default handler memory hands out recycled blocks,
/// and one left over from an exchange's larger operations would stay with the idle connection
/// (0.55 KB more each); a pooled block fits the read and is reused without malloc.
template <class T>
class IdleWaitAllocator {
 public:
  using value_type = T;
  explicit IdleWaitAllocator(middleware::BlockPool& pool) noexcept : pool_(&pool) {}
  template <class U>
  IdleWaitAllocator(const IdleWaitAllocator<U>& other) noexcept : pool_(other.pool()) {}
  T* allocate(std::size_t n) {
    if (n * sizeof(T) > pool_->block_size()) {
      return static_cast<T*>(::operator new(n * sizeof(T)));
    }
    return static_cast<T*>(pool_->take());
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) > pool_->block_size()) {
      ::operator delete(p);
    } else {
      pool_->give(p);
    }
  }
  middleware::BlockPool* pool() const noexcept { return pool_; }
  template <class U>
  bool operator==(const IdleWaitAllocator<U>& other) const noexcept {
    return pool_ == other.pool();
  }

 private:
  middleware::BlockPool* pool_;
};

/// What an exchange relays through: a fixed buffer for body bytes (or one tunnel direction), the
/// message head it writes and a chunk's size line.
struct RelayBuffer {
  std::array<char, relay_size> bytes;
  std::string head;
  ChunkSizeLine chunk_size_line{0};
};

/// What a worker serves with: the snapshot and the balancer state it owns for it.
struct WorkerState {
  std::shared_ptr<const runtime::Snapshot> snapshot;
  std::unique_ptr<runtime::Balancer> balancer;
  std::vector<const runtime::RouteTable*> tables;      ///< per entry point index
  std::vector<const runtime::RouteTable*> tls_tables;  ///< per entry point index
};

class Session;

class Worker {
 public:
  Worker(const ServerOptions& options, const std::string& server_name,
         tls::ClientContext& upstream_tls);

  net::io_context& context() noexcept { return ioc_; }
  const ServerOptions& options() const noexcept { return options_; }
  const std::string& server_name() const noexcept { return server_name_; }
  UpstreamPool& pool() noexcept { return pool_; }
  WorkerState& state() noexcept { return state_; }
  bool draining() const noexcept { return draining_; }
  /// The current certificates and options; a connection keeps the store it started with.
  const std::shared_ptr<const tls::Store>& tls() const noexcept { return tls_; }
  void set_tls(std::shared_ptr<const tls::Store> store) { tls_ = std::move(store); }
  /// Names the tls.options of a handshake on entry point `index` from the current snapshot. The
  /// ClientHello callback runs on this worker's thread, so it may read the state directly.
  const tls::OptionsSelector& options_selector(std::size_t index) const {
    return selectors_[index];
  }
  /// The client context for https:// servers and forwardAuth, shared by all workers; the first
  /// call builds it.
  net::ssl::context& upstream_tls() { return upstream_tls_.get(); }

  /// Runs on the worker thread: builds this worker's balancer for the snapshot.
  void install(std::shared_ptr<const runtime::Snapshot> snapshot);

  /// Opens and binds an acceptor for entry point `index`.
  void listen(std::size_t index, const tcp::endpoint& endpoint, bool reuse_port);
  std::uint16_t bound_port(std::size_t index) const;
  void start_accepting();
  /// Runs on the worker thread: closes idle client and upstream connections past their idle
  /// timeouts every `sweep_period()`. One periodic timer instead of one armed and cancelled per
  /// request and per pooled connection; a connection closes up to one period late.
  void start_sweeping();
  /// Runs on the worker thread: stop accepting, close idle client and upstream connections.
  void drain();

  /// Relay buffers are recycled per worker, so idle keep-alive connections hold none and a busy
  /// worker allocates none per request.
  std::unique_ptr<RelayBuffer> acquire_buffer();
  void release_buffer(std::unique_ptr<RelayBuffer> buffer);
  /// The same for the buffers client requests are read into, which idle plain connections give
  /// back while they wait.
  beast::flat_buffer acquire_read_buffer();
  void release_read_buffer(beast::flat_buffer buffer);

  void add(Session* session) {
    sessions_.insert(session);
    ++connections;
  }
  void remove(Session* session) {
    sessions_.erase(session);
    --connections;
  }

  std::atomic<std::size_t> connections{0};

  /// Blocks for the idle reads' handlers (256 bytes fit one) and for the sessions' field arenas,
  /// kept so that requests allocate none.
  middleware::BlockPool idle_wait_blocks{256, 1024};
  middleware::BlockPool arena_blocks{middleware::FieldArena::block_size, 64};
  /// This worker's request counters (only its thread touches them). Declared before the
  /// io_context, so sessions destroyed with it can still record.
  MetricsTable metrics;
  /// Shared by the workers, each writing to its own ring `number`; null without an access log.
  AccessLog* access_log = nullptr;
  /// Header views of the access log line being written, kept so that they stop allocating.
  std::vector<HeaderField> logged_request_headers;
  std::vector<HeaderField> logged_response_headers;
  unsigned number = 0;  ///< this worker's position among the workers

 private:
  void do_accept(std::size_t index);

  const ServerOptions& options_;
  const std::string& server_name_;
  bool draining_ = false;
  std::shared_ptr<const tls::Store> tls_;
  tls::ClientContext& upstream_tls_;
  std::vector<tls::OptionsSelector> selectors_;
  std::unordered_set<Session*> sessions_;
  std::vector<std::unique_ptr<RelayBuffer>> spare_buffers_;
  std::vector<beast::flat_buffer> spare_read_buffers_;
  /// One thread runs it and only that thread touches its sockets, so the reactor's per-socket
  /// locks go (other threads still post to it, which stays locked).
  net::io_context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  net::steady_timer sweep_timer_{ioc_};
  UpstreamPool pool_;
  WorkerState state_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
};

/// Starts serving an accepted client connection.
void start_session(Worker& worker, std::size_t entry_point, Socket socket);

/// Closes a session's client side if it waits for a request past its idle timeout by `now`.
void close_if_idle_expired(Session& session, std::chrono::steady_clock::time_point now);

/// Closes a session's client side if it waits for a request (used when draining).
void close_if_idle(Session& session);

}  // namespace berth::proxy
