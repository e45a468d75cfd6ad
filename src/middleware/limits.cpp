// rateLimit (token bucket per source, 429 with Retry-After) and inFlightReq (concurrent requests
// per source, 429). Their state is shared by every worker and survives configuration swaps.

#include <cmath>
#include <mutex>
#include <unordered_map>
#include <variant>

#include "berth/config/duration.hpp"
#include "ip.hpp"
#include "middleware.hpp"

namespace berth::middleware {
namespace {

using std::chrono::nanoseconds;

/// Transparent string hashing so lookups by string_view do not allocate.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

class RateState {
 public:
  struct Result {
    bool allowed = true;
    nanoseconds delay{0};
  };

  RateState(double rate, double burst, nanoseconds max_delay)
      : rate_(rate), burst_(burst), max_delay_(max_delay) {}

  Result reserve(std::string_view key, TimePoint now) {
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_buckets) forget_full(now);
      it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
    }
    Bucket& bucket = it->second;
    refill(bucket, now);
    bucket.tokens -= 1;
    if (bucket.tokens >= 0) return {};
    const auto delay = nanoseconds(std::llround(-bucket.tokens / rate_ * 1e9));
    if (delay > max_delay_) {
      // Refused requests do not consume a token.
      bucket.tokens += 1;
      return {false, delay};
    }
    return {true, delay};
  }

 private:
  struct Bucket {
    double tokens;
    TimePoint updated;
  };
  static constexpr std::size_t max_buckets = 65536;

  void refill(Bucket& bucket, TimePoint now) const {
    if (now > bucket.updated) {
      const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
      bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
      bucket.updated = now;
    }
  }

  /// Buckets that refilled completely behave as new ones; dropping them bounds memory.
  void forget_full(TimePoint now) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      refill(it->second, now);
      it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }

  std::mutex mutex_;
  double rate_;
  double burst_;
  nanoseconds max_delay_;
  std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets_;
};

class RateLimit final : public Middleware {
 public:
  RateLimit(std::shared_ptr<RateState> state, SourceCriterion source, Clock clock)
      : state_(std::move(state)), source_(std::move(source)), clock_(std::move(clock)) {}

  std::optional<Decision> on_request(RequestContext& context) const override {
    if (!state_) return std::nullopt;  // average 0: no limit
    const auto result = state_->reserve(source_.key(context), clock_());
    if (!result.allowed) {
      auto response = make_response(http::status::too_many_requests, "Too Many Requests",
                                    context.request.version());
      const auto seconds = std::ceil(std::chrono::duration<double>(result.delay).count());
      response.set(http::field::retry_after, std::to_string(static_cast<std::int64_t>(seconds)));
      response.set("X-Retry-In", config::format_duration(result.delay));
      return Respond{std::move(response)};
    }
    // Accepted within the allowed delay: the chain goes on, the proxy waits first.
    context.state.delay = std::max(context.state.delay, result.delay);
    return std::nullopt;
  }

 private:
  std::shared_ptr<RateState> state_;
  SourceCriterion source_;
  Clock clock_;
};

class InFlightState : public std::enable_shared_from_this<InFlightState> {
 public:
  explicit InFlightState(std::int64_t amount) : amount_(amount) {}

  /// A slot held until the returned handle is destroyed, or null when the source is at its limit.
  std::shared_ptr<void> acquire(std::string_view key) {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(key);
    if (it == counts_.end()) it = counts_.emplace(std::string(key), 0).first;
    if (it->second >= amount_) return nullptr;
    ++it->second;
    return std::make_shared<Slot>(shared_from_this(), it->first);
  }

 private:
  /// Gives its place back when the request ends.
  struct Slot {
    Slot(std::shared_ptr<InFlightState> owner, std::string key)
        : owner_(std::move(owner)), key_(std::move(key)) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { owner_->release(key_); }
    std::shared_ptr<InFlightState> owner_;
    std::string key_;
  };

  void release(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto it = counts_.find(key);
    if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
  }

  std::mutex mutex_;
  std::int64_t amount_;
  std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>> counts_;
};

class InFlight final : public Middleware {
 public:
  InFlight(std::shared_ptr<InFlightState> state, SourceCriterion source)
      : state_(std::move(state)), source_(std::move(source)) {}

  std::optional<Decision> on_request(RequestContext& context) const override {
    auto slot = state_->acquire(source_.key(context));
    if (!slot) {
      return Respond{make_response(http::status::too_many_requests, "Too Many Requests",
                                   context.request.version())};
    }
    context.state.releases.push_back(std::move(slot));
    return std::nullopt;
  }

 private:
  std::shared_ptr<InFlightState> state_;
  SourceCriterion source_;
};

template <class State, class Make>
std::shared_ptr<State> shared_state(const std::string& name, const config::Middleware& definition,
                                    const Environment& environment, Make make) {
  if (environment.registry == nullptr) return make();
  return environment.registry->get<State>(name, definition, make);
}

}  // namespace

Compiled make_rate_limit(const std::string& name, const config::Middleware& definition,
                         const config::RateLimit& c, const Environment& environment) {
  if (c.average < 0) return std::string("average must not be negative");
  if (c.burst < 0) return std::string("burst must not be negative");
  const nanoseconds period = c.period.value_or(std::chrono::seconds(1));
  if (period.count() < 0) return std::string("period must not be negative");
  auto source = SourceCriterion::make(c.source_criterion);
  if (auto* error = std::get_if<std::string>(&source)) return std::move(*error);
  std::shared_ptr<RateState> state;
  if (c.average > 0) {
    const double per_second = period.count() > 0 ? static_cast<double>(c.average) * 1e9 /
                                                       static_cast<double>(period.count())
                                                 : static_cast<double>(c.average);
    // Traefik's tolerance: a request may wait this long for a token instead of being refused.
    const nanoseconds max_delay =
        per_second < 1
            ? nanoseconds(std::chrono::milliseconds(500))
            : nanoseconds(static_cast<std::int64_t>(
                  1e9 / (2 * static_cast<double>(static_cast<std::int64_t>(per_second)))));
    const double burst = static_cast<double>(std::max<std::int64_t>(c.burst, 1));
    state = shared_state<RateState>(name, definition, environment, [&] {
      return std::make_shared<RateState>(per_second, burst, max_delay);
    });
  }
  return std::make_shared<const RateLimit>(
      std::move(state), std::move(std::get<SourceCriterion>(source)), environment.clock);
}

Compiled make_in_flight(const std::string& name, const config::Middleware& definition,
                        const config::InFlightReq& c, const Environment& environment) {
  if (c.amount <= 0) return std::string("amount must be greater than 0");
  auto source = SourceCriterion::make(c.source_criterion);
  if (auto* error = std::get_if<std::string>(&source)) return std::move(*error);
  auto state = shared_state<InFlightState>(
      name, definition, environment, [&] { return std::make_shared<InFlightState>(c.amount); });
  return std::make_shared<const InFlight>(std::move(state),
                                          std::move(std::get<SourceCriterion>(source)));
}

}  // namespace berth::middleware
