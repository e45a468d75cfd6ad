#pragma once
// Private to the proxy: a message head and body framing as bytes on the wire. The session writes
// them itself, in one gathered write per step, instead of through Beast's serializer, whose
// buffer-sequence views cost more than the rest of the request path together.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "berth/proxy/forwarding.hpp"

namespace berth::proxy {

namespace http = boost::beast::http;
using middleware::ResponseHeader;

/// Appends the request line, the fields, `extra` fields and the blank line that ends the head.
void append_head(const RequestHeader& header, std::span<const FieldLine> extra, std::string& out);
/// Appends the status line (the reason the header carries, or the standard one), the fields and
/// the blank line that ends the head.
void append_head(const ResponseHeader& header, std::string& out);

/// The line that opens a chunk of `size` bytes in chunked transfer coding ("1a2b\r\n").
class ChunkSizeLine {
 public:
  explicit ChunkSizeLine(std::size_t size) noexcept;
  std::string_view view() const noexcept {
    return {digits_.data() + start_, digits_.size() - start_};
  }

 private:
  std::array<char, 2 * sizeof(std::size_t) + 2> digits_{};
  std::size_t start_ = 0;
};

/// What follows a chunk's bytes, and the last chunk (no trailers) that ends a chunked body.
inline constexpr std::string_view chunk_end = "\r\n";
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace berth::proxy
