#include "observer.hpp"

#include <atomic>
#include <span>
#include <vector>

#include "berth/proxy/access_log.hpp"
#include "berth/proxy/forwarding.hpp"
#include "worker.hpp"

namespace berth::proxy {
namespace {

/// Traefik's RequestCount: requests received since start, over all workers.
std::atomic<std::uint64_t> request_counter{0};

Protocol protocol_of(const middleware::RequestHeader& request) {
  if (is_websocket_upgrade(request)) return Protocol::websocket;
  const auto accept = request[http::field::accept];
  if (accept.find("text/event-stream") != std::string_view::npos) return Protocol::sse;
  return Protocol::http;
}

constexpr std::size_t scope_index(Scope scope) {
  return static_cast<std::size_t>(scope);
}

/// Views of `fields` into `out`, whose capacity is kept from line to line.
template <class Fields>
std::span<const HeaderField> header_views(const Fields& fields, std::vector<HeaderField>& out,
                                          bool without_host) {
  out.clear();
  for (const auto& field : fields) {
    if (without_host && field.name() == http::field::host) continue;
    out.push_back({field.name_string(), field.value()});
  }
  return out;
}

}  // namespace

void RequestObserver::begin(Worker& worker, std::size_t entry_point,
                            const middleware::RequestHeader& request) {
  const bool metrics = worker.options().metrics.enabled;
  if (!metrics && worker.access_log == nullptr) return;
  active_ = true;
  held_ = false;
  start_ = std::chrono::steady_clock::now();
  method_ = static_cast<std::uint8_t>(request.method());
  protocol_ = protocol_of(request);
  version_ = request.version();
  names_.fill(MetricsTable::no_name);
  server_ = MetricsTable::no_name;
  status_ = 0;
  origin_status_ = 0;
  request_bytes_ = 0;
  response_bytes_ = 0;
  retry_attempts_ = 0;
  names_[scope_index(Scope::entry_point)] =
      worker.metrics.intern(worker.options().entry_points[entry_point].name);
  if (worker.access_log != nullptr) {
    wall_start_ = std::chrono::system_clock::now();
    request_count_ = request_counter.fetch_add(1, std::memory_order_relaxed) + 1;
    // assign() reuses the capacity of earlier requests on the connection.
    target_.assign(request.target());
    host_.assign(request[http::field::host]);
  }
  if (metrics && worker.options().metrics.entry_points) {
    worker.metrics.open(Scope::entry_point, names_[scope_index(Scope::entry_point)], method_,
                        protocol_, 1);
  }
}

void RequestObserver::route(Worker& worker, std::string_view router, std::string_view service) {
  if (!active_) return;
  names_[scope_index(Scope::router)] = worker.metrics.intern(router);
  names_[scope_index(Scope::service)] = worker.metrics.intern(service);
  const auto& options = worker.options().metrics;
  if (!options.enabled) return;
  if (options.routers) {
    worker.metrics.open(Scope::router, names_[scope_index(Scope::router)], method_, protocol_, 1);
  }
  if (options.services) {
    worker.metrics.open(Scope::service, names_[scope_index(Scope::service)], method_, protocol_, 1);
  }
}

void RequestObserver::end(Worker& worker, const RequestOutcome& outcome,
                          const middleware::RequestHeader& request, std::string_view client_ip,
                          bool tls) {
  if (!active_ || held_) return;
  status_ = outcome.status;
  origin_status_ = outcome.origin_status;
  response_bytes_ += outcome.local_body_bytes;
  if (worker.access_log != nullptr && !outcome.server_url.empty()) {
    server_ = worker.metrics.intern(outcome.server_url);
  }
  if (status_ == 101) {
    held_ = true;
    return;
  }
  emit(worker, request, outcome.response, client_ip, tls);
}

void RequestObserver::end_tunnel(Worker& worker, const middleware::RequestHeader& request,
                                 std::string_view client_ip, bool tls) {
  if (!active_ || !held_) return;
  // The 101's head is gone by now: a tunnel's line has no downstream_ headers.
  emit(worker, request, nullptr, client_ip, tls);
}

void RequestObserver::emit(Worker& worker, const middleware::RequestHeader& request,
                           const middleware::ResponseHeader* response, std::string_view client_ip,
                           bool tls) {
  active_ = false;
  held_ = false;
  const auto duration = std::chrono::steady_clock::now() - start_;
  const auto& options = worker.options().metrics;
  if (options.enabled) {
    const double seconds = std::chrono::duration<double>(duration).count();
    const std::array<bool, 3> wanted{options.entry_points, options.routers, options.services};
    for (const Scope scope : {Scope::entry_point, Scope::router, Scope::service}) {
      const std::uint32_t name = names_[scope_index(scope)];
      if (!wanted[scope_index(scope)] || name == MetricsTable::no_name) continue;
      worker.metrics.record(scope, name, status_, method_, protocol_, request_bytes_,
                            response_bytes_, seconds);
      worker.metrics.open(scope, name, method_, protocol_, -1);
    }
  }
  if (worker.access_log == nullptr) return;
  RequestRecord record;
  record.client_ip = client_ip;
  record.client_port = client_port;
  record.start = wall_start_;
  record.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(duration);
  record.method = request.method_string();
  record.path = target_;
  record.protocol = version_ == 10 ? "HTTP/1.0" : "HTTP/1.1";
  record.host = host_;
  record.tls = tls;
  record.status = status_;
  record.origin_status = origin_status_;
  record.request_bytes = request_bytes_;
  record.response_bytes = response_bytes_;
  record.referer = request[http::field::referer];
  record.user_agent = request[http::field::user_agent];
  record.request_count = request_count_;
  record.entry_point = worker.metrics.name(names_[scope_index(Scope::entry_point)]);
  record.router = worker.metrics.name(names_[scope_index(Scope::router)]);
  record.service = worker.metrics.name(names_[scope_index(Scope::service)]);
  record.server_url = worker.metrics.name(server_);
  record.retry_attempts = retry_attempts_;
  AccessLog& log = *worker.access_log;
  // Headers are gathered only for a line that is kept and shows some.
  if (!log.keeps(record)) return;
  if (log.shows_headers()) {
    record.request_headers = header_views(request, worker.logged_request_headers, true);
    if (response != nullptr) {
      record.downstream_headers = header_views(*response, worker.logged_response_headers, false);
    }
  }
  log.write(worker.number, record);
}

}  // namespace berth::proxy
