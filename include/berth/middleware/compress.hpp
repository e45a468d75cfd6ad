#pragma once
// The compress middleware's streaming gzip encoder (zlib), fed by the proxy chunk by chunk.
//
// Traefik waits for minResponseBodyBytes before it decides: a body that ends shorter goes out as it
// is. When the response has no Content-Length the compressor therefore starts `pending`: the proxy
// holds the response header, feeds chunks until state() leaves `pending` (or calls finish()), then
// calls apply_headers() and sends the header followed by the output.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "berth/middleware/message.hpp"

namespace berth::middleware {

class GzipCompressor {
 public:
  enum class State { pending, compressing, passthrough };

  /// `min_bytes`: below this many body bytes nothing is compressed. `known_length`: the response's
  /// Content-Length when it has one, which decides at once.
  GzipCompressor(std::size_t min_bytes, std::optional<std::size_t> known_length);
  GzipCompressor(GzipCompressor&&) noexcept;
  GzipCompressor& operator=(GzipCompressor&&) noexcept;
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;
  ~GzipCompressor();

  State state() const noexcept { return state_; }

  /// Feeds body bytes and appends what is ready to `out` (nothing while pending). With `flush` the
  /// compressed data so far is flushed (a streaming response the backend flushed).
  void write(std::string_view chunk, std::string& out, bool flush = false);
  /// The body ended: appends the rest (the gzip trailer, or the held bytes when passing through).
  void finish(std::string& out);

  /// Once not pending: when compressing, sets Content-Encoding: gzip, removes Content-Length, adds
  /// Vary: Accept-Encoding.
  void apply_headers(Fields& fields) const;

 private:
  void start_compressing(std::string& out);
  void deflate_into(std::string_view input, std::string& out, int mode);

  struct Stream;
  std::unique_ptr<Stream> stream_;
  std::size_t min_bytes_;
  State state_ = State::pending;
  std::string held_;
};

}  // namespace berth::middleware
