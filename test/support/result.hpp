#pragma once
// The outcome of a test helper: a value, or a message saying what went wrong. Printable, so
// `REQUIRE(result)` shows the error in Catch's expansion.

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

namespace berth::test {

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  static auto failure(std::string message) -> Result { return Result{std::move(message), 0}; }

  explicit operator bool() const { return value_.has_value(); }
  auto operator*() -> T& { return *value_; }
  auto operator*() const -> const T& { return *value_; }
  auto operator->() -> T* { return &*value_; }
  auto operator->() const -> const T* { return &*value_; }
  auto error() const -> const std::string& { return error_; }

  friend auto operator<<(std::ostream& out, const Result& result) -> std::ostream& {
    return out << (result ? std::string{"ok"} : "error: " + result.error_);
  }

 private:
  Result(std::string message, int /*tag*/) : error_(std::move(message)) {}

  std::optional<T> value_;
  std::string error_;
};

/// For operations that produce nothing but can fail.
using Status = Result<std::monostate>;

}  // namespace berth::test
