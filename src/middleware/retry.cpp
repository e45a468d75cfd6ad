// retry (a policy the proxy applies) and buffering (a request to buffer, with its limits).

#include "berth/middleware/retry.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <variant>

#include "middleware.hpp"
#include "predicate.hpp"

namespace berth::middleware {

RetryPolicy::RetryPolicy(std::int64_t attempts, std::chrono::nanoseconds initial_interval)
    : attempts_(attempts),
      initial_interval_(initial_interval),
      // Traefik's multiplier keeps the waits below twice the first one.
      multiplier_(attempts > 1 ? std::pow(2.0, 1.0 / static_cast<double>(attempts - 1)) : 1.0) {}

std::optional<std::chrono::nanoseconds> RetryPolicy::should_retry(std::int64_t attempt,
                                                                  bool network_error,
                                                                  bool response_started) const {
  if (!network_error || response_started || attempt >= attempts_) return std::nullopt;
  if (initial_interval_.count() <= 0 || attempts_ < 2) return std::chrono::nanoseconds{0};
  const double wait = static_cast<double>(initial_interval_.count()) *
                      std::pow(multiplier_, static_cast<double>(attempt - 1));
  return std::chrono::nanoseconds(static_cast<std::int64_t>(wait));
}

namespace {

class Retry final : public Middleware {
 public:
  explicit Retry(RetryPolicy policy) : policy_(policy) {}
  std::optional<Decision> on_request(RequestContext&) const override { return std::nullopt; }
  const RetryPolicy* retry_policy() const noexcept override { return &policy_; }

 private:
  RetryPolicy policy_;
};

enum BufferingFunction : std::size_t { is_network_error, attempts, response_code };
constexpr std::array<PredicateFunction, 3> buffering_functions{{
    {"IsNetworkError", 0, true},
    {"Attempts", 0, false},
    {"ResponseCode", 0, false},
}};

class Buffering final : public Middleware, public RetryExpression {
 public:
  Buffering(BufferBody limits, std::optional<Predicate> retry)
      : limits_(limits), retry_(std::move(retry)) {
    if (retry_) limits_.retry = this;
  }

  bool should_retry(bool network_error, std::int64_t attempt_count,
                    unsigned status) const override {
    return retry_->evaluate([&](std::size_t f, std::span<const double>) -> double {
      switch (f) {
        case is_network_error:
          return network_error ? 1 : 0;
        case attempts:
          return static_cast<double>(attempt_count);
        default:
          return status;
      }
    });
  }

  std::optional<Decision> on_request(RequestContext& context) const override {
    const auto& request = context.request;
    if (limits_.max_request_body_bytes > 0) {
      if (auto it = request.find(http::field::content_length); it != request.end()) {
        const auto text = it->value();
        std::int64_t length = 0;
        std::from_chars(text.data(), text.data() + text.size(), length);
        if (length > limits_.max_request_body_bytes) {
          return Respond{too_large_response()};
        }
      }
    }
    return Decision{limits_};
  }

 private:
  BufferBody limits_;
  std::optional<Predicate> retry_;
};

}  // namespace

Compiled make_retry(const config::Retry& c) {
  if (c.attempts <= 0) return std::string("attempts must be greater than 0");
  const auto interval = c.initial_interval.value_or(std::chrono::nanoseconds{0});
  if (interval.count() < 0) return std::string("initialInterval must not be negative");
  return std::make_shared<const Retry>(RetryPolicy(c.attempts, interval));
}

Compiled make_buffering(const config::Buffering& c) {
  if (c.max_request_body_bytes < 0 || c.mem_request_body_bytes < 0 ||
      c.max_response_body_bytes < 0 || c.mem_response_body_bytes < 0) {
    return std::string("body sizes must not be negative");
  }
  std::optional<Predicate> retry;
  if (!c.retry_expression.empty()) {
    auto predicate = parse_predicate(c.retry_expression, buffering_functions);
    if (auto* error = std::get_if<std::string>(&predicate)) return "retryExpression: " + *error;
    retry = std::move(std::get<Predicate>(predicate));
  }
  return std::make_shared<const Buffering>(
      BufferBody{c.max_request_body_bytes, c.mem_request_body_bytes, c.max_response_body_bytes,
                 c.mem_response_body_bytes, nullptr},
      std::move(retry));
}

}  // namespace berth::middleware
