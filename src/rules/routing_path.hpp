#pragma once
// The routing path (see rule.hpp) read byte by byte from a raw path, without a copy: escapes are
// decoded except those of reserved characters, which stay encoded with upper-case hex digits.

#include <array>
#include <cstddef>
#include <string_view>

#include "text.hpp"

namespace berth::rules {

/// True when raw[i] starts a well-formed %XX escape.
inline bool is_escape(std::string_view raw, std::size_t i) {
  return raw[i] == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 &&
         hex_value(raw[i + 2]) >= 0;
}

inline char escaped_byte(std::string_view raw, std::size_t i) {
  return static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2]));
}

/// RFC 3986 reserved characters plus '%': their escapes stay encoded in the routing path.
inline bool is_reserved(char c) {
  static constexpr std::string_view reserved = ":/?#[]@!$&'()*+,;=%";
  return reserved.find(c) != std::string_view::npos;
}

/// Produces the routing path (see rule.hpp) byte by byte from the raw path, without a copy.
class RoutingPathReader {
 public:
  explicit RoutingPathReader(std::string_view raw) noexcept : raw_(raw) {}

  bool next(char& c) noexcept {
    if (pending_ < pending_end_) {
      c = pending_bytes_[pending_++];
      return true;
    }
    if (at_ >= raw_.size()) return false;
    if (!is_escape(raw_, at_)) {
      c = raw_[at_++];
      return true;
    }
    const char decoded = escaped_byte(raw_, at_);
    if (is_reserved(decoded)) {
      c = '%';
      pending_bytes_ = {ascii_upper(raw_[at_ + 1]), ascii_upper(raw_[at_ + 2])};
      pending_ = 0;
      pending_end_ = 2;
    } else {
      c = decoded;
    }
    at_ += 3;
    return true;
  }

 private:
  std::string_view raw_;
  std::size_t at_ = 0;
  std::array<char, 2> pending_bytes_{};
  std::size_t pending_ = 0;
  std::size_t pending_end_ = 0;
};

}  // namespace berth::rules
