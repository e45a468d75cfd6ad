#include "metrics_table.hpp"

#include <boost/beast/http/message.hpp>

#include <algorithm>
#include <map>
#include <tuple>

namespace berth::proxy {

std::string_view to_string(Protocol protocol) noexcept {
  switch (protocol) {
    case Protocol::websocket:
      return "websocket";
    case Protocol::sse:
      return "sse";
    case Protocol::http:
      break;
  }
  return "http";
}

std::string method_label(std::uint8_t method) {
  const auto verb = static_cast<boost::beast::http::verb>(method);
  // A label per unknown method would let clients grow the series without bound.
  if (verb == boost::beast::http::verb::unknown) return "OTHER";
  return std::string(boost::beast::http::to_string(verb));
}

std::size_t MetricsTable::KeyHash::operator()(const Key& key) const noexcept {
  std::uint64_t packed = key.name;
  packed = (packed << 16) | key.code;
  packed = (packed << 8) | key.method;
  packed = (packed << 4) | static_cast<std::uint8_t>(key.protocol);
  packed = (packed << 4) | static_cast<std::uint8_t>(key.scope);
  return std::hash<std::uint64_t>{}(packed * 0x9E3779B97F4A7C15ULL);
}

std::uint32_t MetricsTable::intern(std::string_view name) {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

std::string_view MetricsTable::name(std::uint32_t id) const noexcept {
  return id < names_.size() ? std::string_view(names_[id]) : std::string_view();
}

void MetricsTable::open(Scope scope, std::uint32_t name, std::uint8_t method, Protocol protocol,
                        int delta) {
  if (name == no_name) return;
  open_[Key{name, 0, method, protocol, scope}] += delta;
}

void MetricsTable::record(Scope scope, std::uint32_t name, unsigned code, std::uint8_t method,
                          Protocol protocol, std::uint64_t request_bytes,
                          std::uint64_t response_bytes, double seconds) {
  if (name == no_name) return;
  Counters& counters =
      requests_[Key{name, static_cast<std::uint16_t>(code), method, protocol, scope}];
  ++counters.requests;
  counters.request_bytes += request_bytes;
  counters.response_bytes += response_bytes;
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(duration_buckets.begin(), duration_buckets.end(), seconds) -
      duration_buckets.begin());
  ++counters.buckets[bucket];
  counters.seconds += seconds;
}

void MetricsTable::collect(MetricsSnapshot& into) const {
  for (const auto& [key, counters] : requests_) {
    RequestSeries series;
    series.scope = key.scope;
    series.name = names_[key.name];
    series.code = key.code;
    series.method = method_label(key.method);
    series.protocol = key.protocol;
    series.requests = counters.requests;
    series.request_bytes = counters.request_bytes;
    series.response_bytes = counters.response_bytes;
    series.buckets = counters.buckets;
    series.duration_seconds = counters.seconds;
    into.requests.push_back(std::move(series));
  }
  for (const auto& [key, open] : open_) {
    into.open.push_back(
        {key.scope, names_[key.name], method_label(key.method), key.protocol, open});
  }
  for (const auto& [name, open] : connections_) into.connections.push_back({names_[name], open});
}

MetricsSnapshot merge_metrics(const std::vector<MetricsSnapshot>& parts) {
  using Labels = std::tuple<Scope, std::string, unsigned, std::string, Protocol>;
  std::map<Labels, RequestSeries> requests;
  std::map<Labels, OpenSeries> open;
  std::map<std::string, std::int64_t> connections;
  MetricsSnapshot out;
  for (const MetricsSnapshot& part : parts) {
    for (const RequestSeries& series : part.requests) {
      auto [it, added] = requests.try_emplace(
          Labels{series.scope, series.name, series.code, series.method, series.protocol}, series);
      if (added) continue;
      RequestSeries& total = it->second;
      total.requests += series.requests;
      total.request_bytes += series.request_bytes;
      total.response_bytes += series.response_bytes;
      for (std::size_t i = 0; i < total.buckets.size(); ++i) total.buckets[i] += series.buckets[i];
      total.duration_seconds += series.duration_seconds;
    }
    for (const OpenSeries& series : part.open) {
      auto [it, added] = open.try_emplace(
          Labels{series.scope, series.name, 0, series.method, series.protocol}, series);
      if (!added) it->second.open += series.open;
    }
    for (const ConnectionSeries& series : part.connections) {
      connections[series.entry_point] += series.open;
    }
    out.access_log_dropped += part.access_log_dropped;
    out.access_log_written += part.access_log_written;
  }
  for (auto& [labels, series] : requests) out.requests.push_back(std::move(series));
  for (auto& [labels, series] : open) out.open.push_back(std::move(series));
  for (const auto& [entry_point, count] : connections)
    out.connections.push_back({entry_point, count});
  return out;
}

}  // namespace berth::proxy
