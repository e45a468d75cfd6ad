#include "berth/runtime/health.hpp"

#include <algorithm>
#include <cctype>

#include "berth/config/duration.hpp"

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

std::vector<std::pair<std::string, std::shared_ptr<ServerHealth>>> HealthRegistry::entries() const {
  std::lock_guard lock(mutex_);
  return {entries_.begin(), entries_.end()};
}

std::size_t HealthRegistry::prune() {
  std::lock_guard lock(mutex_);
  return std::erase_if(entries_, [](const auto& entry) { return entry.second.use_count() == 1; });
}

namespace {

std::int64_t steady_now() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// An HTTP token (RFC 9110): what a method or a header name may be made of.
bool is_token(std::string_view text) {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           specials.find(c) != std::string_view::npos;
  });
}

std::string positive_error(std::string_view field, config::Duration value) {
  return "healthCheck." + std::string(field) + " must be positive (got " +
         config::format_duration(value) + ")";
}

}  // namespace

bool ServerHealth::available() const noexcept {
  return up.load(std::memory_order_relaxed) && !passive_out();
}

bool ServerHealth::passive_out() const noexcept {
  const std::int64_t until = passive_down_until.load(std::memory_order_relaxed);
  return until != 0 && steady_now() < until;
}

bool ServerHealth::record_failure(const PassivePolicy& policy) noexcept {
  const std::int64_t now = steady_now();
  const std::int64_t window = policy.failure_window.count();
  std::int64_t first = first_failure.load(std::memory_order_relaxed);
  if (failures.load(std::memory_order_relaxed) == 0 || now - first > window) {
    // A new series starts; a concurrent failure that started it first wins.
    if (first_failure.compare_exchange_strong(first, now, std::memory_order_relaxed)) {
      failures.store(0, std::memory_order_relaxed);
    }
  }
  if (failures.fetch_add(1, std::memory_order_relaxed) + 1 < policy.max_failed_attempts) {
    return false;
  }
  failures.store(0, std::memory_order_relaxed);
  std::int64_t until = passive_down_until.load(std::memory_order_relaxed);
  // Already out: a request that was in flight when it went out does not extend the window.
  if (until != 0 && now < until) return false;
  return passive_down_until.compare_exchange_strong(until, now + window, std::memory_order_relaxed);
}

std::variant<ActiveCheck, std::string> resolve_health_check(
    const config::ServerHealthCheck& check) {
  ActiveCheck out;
  if (!check.mode.empty() && check.mode != "http") {
    return "healthCheck.mode \"" + check.mode + "\" is not supported (only http)";
  }
  if (!check.scheme.empty() && check.scheme != "http" && check.scheme != "https") {
    return "healthCheck.scheme \"" + check.scheme + "\" is not supported (only http and https)";
  }
  out.scheme = check.scheme;
  if (!check.path.empty() && (check.path.find_first_of(" \r\n") != std::string::npos ||
                              check.path.find("://") != std::string::npos)) {
    return "healthCheck.path \"" + check.path + "\" is not a path";
  }
  out.path = check.path;
  if (!check.method.empty()) {
    if (!is_token(check.method)) {
      return "healthCheck.method \"" + check.method + "\" is not an HTTP method";
    }
    out.method = check.method;
    std::transform(out.method.begin(), out.method.end(), out.method.begin(), [](char c) {
      return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
  }
  if (check.status != 0 && (check.status < 100 || check.status > 599)) {
    return "healthCheck.status " + std::to_string(check.status) +
           " is not an HTTP status (100-599)";
  }
  out.status = check.status;
  if (check.port < 0 || check.port > 65535) {
    return "healthCheck.port " + std::to_string(check.port) + " is out of range (1-65535)";
  }
  out.port = static_cast<std::uint16_t>(check.port);
  if (check.hostname.find_first_of(" \r\n/") != std::string::npos) {
    return "healthCheck.hostname \"" + check.hostname + "\" is not a host name";
  }
  out.hostname = check.hostname;
  if (check.interval) {
    if (check.interval->count() <= 0) return positive_error("interval", *check.interval);
    out.interval = *check.interval;
  }
  out.unhealthy_interval = out.interval;
  if (check.unhealthy_interval) {
    if (check.unhealthy_interval->count() <= 0) {
      return positive_error("unhealthyInterval", *check.unhealthy_interval);
    }
    out.unhealthy_interval = *check.unhealthy_interval;
  }
  if (check.timeout) {
    if (check.timeout->count() <= 0) return positive_error("timeout", *check.timeout);
    out.timeout = *check.timeout;
  }
  out.follow_redirects = check.follow_redirects.value_or(true);
  for (const auto& [name, value] : check.headers) {
    if (!is_token(name)) return "healthCheck.headers: \"" + name + "\" is not a header name";
    if (value.find_first_of("\r\n") != std::string::npos) {
      return "healthCheck.headers." + name + ": the value has a line break";
    }
  }
  out.headers = check.headers;
  return out;
}

std::variant<PassivePolicy, std::string> resolve_passive_health_check(
    const config::PassiveHealthCheck& check) {
  PassivePolicy out;
  if (check.max_failed_attempts) {
    if (*check.max_failed_attempts < 1) {
      return "passiveHealthCheck.maxFailedAttempts must be at least 1 (got " +
             std::to_string(*check.max_failed_attempts) + ")";
    }
    out.max_failed_attempts = *check.max_failed_attempts;
  }
  if (check.failure_window) {
    if (check.failure_window->count() <= 0) {
      return "passiveHealthCheck.failureWindow must be positive (got " +
             config::format_duration(*check.failure_window) + ")";
    }
    out.failure_window = *check.failure_window;
  }
  return out;
}

}  // namespace berth::runtime
