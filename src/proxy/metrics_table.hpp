#pragma once
// Private to the proxy: one worker's request counters. Only the worker's thread touches a table
// (it records; a scrape posts the collection to it), so there is no lock and no atomic. Names are
// interned once, so a request in steady state costs a few hash lookups and no allocation.

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "berth/proxy/metrics.hpp"

namespace berth::proxy {

class MetricsTable {
 public:
  static constexpr std::uint32_t no_name = UINT32_MAX;

  /// The id of a name (entry point, router, service, server URL), stable for the table's life.
  std::uint32_t intern(std::string_view name);
  std::string_view name(std::uint32_t id) const noexcept;

  /// A client connection of entry point `name` opens (+1) or closes (-1).
  void connection(std::uint32_t name, int delta) { connections_[name] += delta; }

  /// A request of this (scope, name, method, protocol) starts (+1) or ends (-1).
  void open(Scope scope, std::uint32_t name, std::uint8_t method, Protocol protocol, int delta);

  void record(Scope scope, std::uint32_t name, unsigned code, std::uint8_t method,
              Protocol protocol, std::uint64_t request_bytes, std::uint64_t response_bytes,
              double seconds);

  /// Appends this table's series (unmerged, unsorted).
  void collect(MetricsSnapshot& into) const;

 private:
  struct Key {
    std::uint32_t name = 0;
    std::uint16_t code = 0;
    std::uint8_t method = 0;
    Protocol protocol = Protocol::http;
    Scope scope = Scope::entry_point;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const noexcept;
  };
  struct Counters {
    std::uint64_t requests = 0;
    std::uint64_t request_bytes = 0;
    std::uint64_t response_bytes = 0;
    std::array<std::uint64_t, duration_buckets.size() + 1> buckets{};
    double seconds = 0;
  };
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };

  std::vector<std::string> names_;
  std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> ids_;
  std::unordered_map<Key, Counters, KeyHash> requests_;
  std::unordered_map<Key, std::int64_t, KeyHash> open_;
  std::unordered_map<std::uint32_t, std::int64_t> connections_;
};

/// Sums the workers' series by labels, sorted.
MetricsSnapshot merge_metrics(const std::vector<MetricsSnapshot>& parts);

/// The `method` label of a Beast verb number (http::verb), "OTHER" for methods Beast does not know.
std::string method_label(std::uint8_t method);

}  // namespace berth::proxy
