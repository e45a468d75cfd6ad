// circuitBreaker, as oxy's cbreaker that Traefik uses: metrics over a 10 s rolling window, the
// expression checked at most once per checkPeriod; closed → open (fallbackDuration, every request
// answered with responseCode) → recovering (recoveryDuration, a growing share of requests let
// through) → closed. Network errors are the responses with status 502 or 504, as in oxy.

#include <array>
#include <map>
#include <mutex>
#include <variant>

#include "middleware.hpp"
#include "predicate.hpp"

namespace berth::middleware {
namespace {

using std::chrono::nanoseconds;

enum Function : std::size_t { network_error_ratio, response_code_ratio, latency_at_quantile };
constexpr std::array<PredicateFunction, 3> functions{{
    {"NetworkErrorRatio", 0, false},
    {"ResponseCodeRatio", 4, false},
    {"LatencyAtQuantileMS", 1, false},
}};

/// Counts over the last `slots` seconds, one slot per second.
class RollingMetrics {
 public:
  void record(unsigned status, nanoseconds latency, TimePoint now) {
    Slot& slot = current(now);
    ++slot.total;
    if (status == 502 || status == 504) ++slot.network_errors;
    ++slot.codes[status];
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(latency).count();
    ++slot.latencies_ms[ms];
  }

  void reset() { slots_ = {}; }

  double network_error_ratio(TimePoint now) {
    std::uint64_t total = 0;
    std::uint64_t errors = 0;
    for_each(now, [&](const Slot& s) {
      total += s.total;
      errors += s.network_errors;
    });
    return total == 0 ? 0 : static_cast<double>(errors) / static_cast<double>(total);
  }

  double response_code_ratio(double from, double to, double divided_from, double divided_to,
                             TimePoint now) {
    std::uint64_t numerator = 0;
    std::uint64_t denominator = 0;
    for_each(now, [&](const Slot& s) {
      for (const auto& [code, count] : s.codes) {
        const double c = code;
        if (c >= from && c < to) numerator += count;
        if (c >= divided_from && c < divided_to) denominator += count;
      }
    });
    return denominator == 0 ? 0 : static_cast<double>(numerator) / static_cast<double>(denominator);
  }

  /// The smallest latency at or below which `quantile` percent of the requests completed.
  double latency_at_quantile_ms(double quantile, TimePoint now) {
    std::map<std::int64_t, std::uint64_t> merged;
    std::uint64_t total = 0;
    for_each(now, [&](const Slot& s) {
      for (const auto& [ms, count] : s.latencies_ms) {
        merged[ms] += count;
        total += count;
      }
    });
    if (total == 0) return 0;
    const double wanted = quantile / 100.0 * static_cast<double>(total);
    std::uint64_t seen = 0;
    for (const auto& [ms, count] : merged) {
      seen += count;
      if (static_cast<double>(seen) >= wanted) return static_cast<double>(ms);
    }
    return static_cast<double>(merged.rbegin()->first);
  }

 private:
  static constexpr std::size_t slots = 10;
  struct Slot {
    std::int64_t second = -1;
    std::uint64_t total = 0;
    std::uint64_t network_errors = 0;
    std::map<unsigned, std::uint64_t> codes;
    std::map<std::int64_t, std::uint64_t> latencies_ms;
  };

  static std::int64_t second_of(TimePoint now) {
    return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  }

  Slot& current(TimePoint now) {
    const auto second = second_of(now);
    Slot& slot = slots_[static_cast<std::size_t>(second % static_cast<std::int64_t>(slots))];
    if (slot.second != second) slot = Slot{second, 0, 0, {}, {}};
    return slot;
  }

  template <class F>
  void for_each(TimePoint now, F&& f) const {
    const auto second = second_of(now);
    for (const auto& slot : slots_) {
      if (slot.second >= 0 && second - slot.second < static_cast<std::int64_t>(slots)) f(slot);
    }
  }

  std::array<Slot, slots> slots_{};
};

struct BreakerSettings {
  Predicate condition;
  nanoseconds check_period;
  nanoseconds fallback_duration;
  nanoseconds recovery_duration;
};

class BreakerState {
 public:
  enum class Phase { closed, open, recovering };

  explicit BreakerState(BreakerSettings settings) : settings_(std::move(settings)) {}

  /// True when the request must be refused (open, or held back while recovering).
  bool refuse(TimePoint now) {
    std::lock_guard lock(mutex_);
    switch (phase_) {
      case Phase::closed:
        return false;
      case Phase::open:
        if (now < until_) return true;
        phase_ = Phase::recovering;
        since_ = now;
        until_ = now + settings_.recovery_duration;
        allowed_ = 0;
        denied_ = 0;
        [[fallthrough]];
      case Phase::recovering: {
        if (now > until_) {
          phase_ = Phase::closed;
          return false;
        }
        // Let through just enough requests to follow a ratio growing linearly to 1.
        const double target = std::chrono::duration<double>(now - since_).count() /
                              std::chrono::duration<double>(settings_.recovery_duration).count();
        const double ratio =
            static_cast<double>(allowed_ + 1) / static_cast<double>(allowed_ + 1 + denied_);
        if (ratio < target) {
          ++allowed_;
          return false;
        }
        ++denied_;
        return true;
      }
    }
    return false;
  }

  void record(unsigned status, nanoseconds latency, TimePoint now) {
    std::lock_guard lock(mutex_);
    metrics_.record(status, latency, now);
    if (phase_ == Phase::open || now < next_check_) return;
    next_check_ = now + settings_.check_period;
    const bool trip = settings_.condition.evaluate([&](std::size_t f, std::span<const double> a) {
      switch (f) {
        case network_error_ratio:
          return metrics_.network_error_ratio(now);
        case response_code_ratio:
          return metrics_.response_code_ratio(a[0], a[1], a[2], a[3], now);
        default:
          return metrics_.latency_at_quantile_ms(a[0], now);
      }
    });
    if (trip) {
      phase_ = Phase::open;
      until_ = now + settings_.fallback_duration;
      metrics_.reset();
    }
  }

 private:
  std::mutex mutex_;
  BreakerSettings settings_;
  RollingMetrics metrics_;
  Phase phase_ = Phase::closed;
  TimePoint since_{};
  TimePoint until_{};
  TimePoint next_check_{};
  std::uint64_t allowed_ = 0;
  std::uint64_t denied_ = 0;
};

class CircuitBreaker final : public Middleware {
 public:
  CircuitBreaker(std::shared_ptr<BreakerState> state, http::status response_code, Clock clock)
      : state_(std::move(state)), response_code_(response_code), clock_(std::move(clock)) {}

  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto now = clock_();
    if (state_->refuse(now)) {
      return Respond{make_response(response_code_,
                                   std::string(http::obsolete_reason(response_code_)),
                                   context.request.version())};
    }
    if (context.state.started == TimePoint{}) context.state.started = now;
    return std::nullopt;
  }

  void on_response(ResponseContext& context) const override {
    const auto now = clock_();
    state_->record(context.response.result_int(), now - context.state.started, now);
  }

 private:
  std::shared_ptr<BreakerState> state_;
  http::status response_code_;
  Clock clock_;
};

}  // namespace

Compiled make_circuit_breaker(const std::string& name, const config::Middleware& definition,
                              const config::CircuitBreaker& c, const Environment& environment) {
  auto condition = parse_predicate(c.expression, functions);
  if (auto* error = std::get_if<std::string>(&condition)) return "expression: " + *error;
  // As Traefik, durations that are not positive mean the defaults.
  auto positive_or = [](const std::optional<config::Duration>& value, nanoseconds fallback) {
    return value && value->count() > 0 ? *value : fallback;
  };
  BreakerSettings settings{std::move(std::get<Predicate>(condition)),
                           positive_or(c.check_period, std::chrono::milliseconds(100)),
                           positive_or(c.fallback_duration, std::chrono::seconds(10)),
                           positive_or(c.recovery_duration, std::chrono::seconds(10))};
  auto response_code = http::status::service_unavailable;
  if (c.response_code != 0) {
    if (c.response_code < 100 || c.response_code > 599) {
      return "responseCode " + std::to_string(c.response_code) + " is no HTTP status";
    }
    response_code = static_cast<http::status>(c.response_code);
  }
  auto make = [&] { return std::make_shared<BreakerState>(settings); };
  auto state = environment.registry != nullptr
                   ? environment.registry->get<BreakerState>(name, definition, make)
                   : make();
  return std::make_shared<const CircuitBreaker>(std::move(state), response_code, environment.clock);
}

}  // namespace berth::middleware
