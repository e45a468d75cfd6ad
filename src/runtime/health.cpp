#include "berth/runtime/health.hpp"

namespace berth::runtime {

std::shared_ptr<ServerHealth> HealthRegistry::acquire(std::string_view url) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(url);
  if (it == entries_.end()) {
    it = entries_.emplace(std::string(url), std::make_shared<ServerHealth>()).first;
  }
  return it->second;
}

std::shared_ptr<ServerHealth> HealthRegistry::find(std::string_view url) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(url);
  return it == entries_.end() ? nullptr : it->second;
}

bool HealthRegistry::set_up(std::string_view url, bool up) {
  auto state = find(url);
  if (!state) return false;
  state->up.store(up, std::memory_order_relaxed);
  return true;
}

std::size_t HealthRegistry::prune() {
  std::lock_guard lock(mutex_);
  return std::erase_if(entries_, [](const auto& entry) { return entry.second.use_count() == 1; });
}

}  // namespace berth::runtime
