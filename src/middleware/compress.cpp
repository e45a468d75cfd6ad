// compress: gzip (zlib) for clients that accept it, as Traefik's compress middleware decides.

#include "berth/middleware/compress.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <variant>

#include "middleware.hpp"

namespace berth::middleware {

// ---------------------------------------------------------------------------------------------
// GzipCompressor

struct GzipCompressor::Stream {
  z_stream z{};
  bool initialised = false;
  ~Stream() {
    if (initialised) deflateEnd(&z);
  }
};

GzipCompressor::GzipCompressor(std::size_t min_bytes, std::optional<std::size_t> known_length)
    : min_bytes_(min_bytes) {
  if (known_length) state_ = *known_length >= min_bytes_ ? State::compressing : State::passthrough;
  if (state_ == State::compressing) {
    std::string none;
    start_compressing(none);
  }
}

GzipCompressor::GzipCompressor(GzipCompressor&&) noexcept = default;
GzipCompressor& GzipCompressor::operator=(GzipCompressor&&) noexcept = default;
GzipCompressor::~GzipCompressor() = default;

void GzipCompressor::start_compressing(std::string& out) {
  state_ = State::compressing;
  stream_ = std::make_unique<Stream>();
  // windowBits 15 + 16: a gzip wrapper rather than zlib's.
  if (deflateInit2(&stream_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    // Out of memory in zlib: send the body as it is.
    stream_.reset();
    state_ = State::passthrough;
    out.append(held_);
    held_.clear();
    return;
  }
  stream_->initialised = true;
  if (!held_.empty()) {
    const std::string held = std::move(held_);
    held_.clear();
    deflate_into(held, out, Z_NO_FLUSH);
  }
}

void GzipCompressor::deflate_into(std::string_view input, std::string& out, int mode) {
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  unsigned char buffer[16384];
  do {
    z.next_out = buffer;
    z.avail_out = sizeof(buffer);
    const int rc = deflate(&z, mode);
    if (rc == Z_STREAM_ERROR) return;
    out.append(reinterpret_cast<const char*>(buffer), sizeof(buffer) - z.avail_out);
  } while (z.avail_out == 0 || z.avail_in > 0);
}

void GzipCompressor::write(std::string_view chunk, std::string& out, bool flush) {
  switch (state_) {
    case State::passthrough:
      out.append(chunk);
      return;
    case State::pending:
      held_.append(chunk);
      if (held_.size() < min_bytes_) return;
      start_compressing(out);
      if (flush && state_ == State::compressing) deflate_into({}, out, Z_SYNC_FLUSH);
      return;
    case State::compressing:
      deflate_into(chunk, out, flush ? Z_SYNC_FLUSH : Z_NO_FLUSH);
      return;
  }
}

void GzipCompressor::finish(std::string& out) {
  if (state_ == State::pending) {
    // The whole body is shorter than the threshold: it goes out uncompressed.
    state_ = State::passthrough;
    out.append(held_);
    held_.clear();
    return;
  }
  if (state_ == State::compressing && stream_) deflate_into({}, out, Z_FINISH);
}

void GzipCompressor::apply_headers(Fields& fields) const {
  if (state_ != State::compressing) return;
  fields.set(boost::beast::http::field::content_encoding, "gzip");
  fields.erase(boost::beast::http::field::content_length);
}

// ---------------------------------------------------------------------------------------------
// The middleware

namespace {

std::string media_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  std::string type(trim(content_type.substr(0, semicolon)));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return type;
}

/// True when Accept-Encoding lets us send gzip: gzip or * with a non-zero quality.
bool accepts_gzip(std::string_view header) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const auto semicolon = item.find(';');
    const auto coding = trim(item.substr(0, semicolon));
    double quality = 1;
    if (semicolon != std::string_view::npos) {
      auto param = trim(item.substr(semicolon + 1));
      if (param.starts_with("q=") || param.starts_with("Q=")) {
        param.remove_prefix(2);
        std::from_chars(param.data(), param.data() + param.size(), quality);
      }
    }
    if ((iequals(coding, "gzip") || coding == "*") && quality > 0) return true;
  }
  return false;
}

class Compress final : public Middleware {
 public:
  Compress(std::vector<std::string> excluded, std::vector<std::string> included,
           std::size_t min_bytes, bool gzip_enabled, bool gzip_default)
      : excluded_(std::move(excluded)),
        included_(std::move(included)),
        min_bytes_(min_bytes),
        gzip_enabled_(gzip_enabled),
        gzip_default_(gzip_default) {}

  std::optional<Decision> on_request(RequestContext&) const override { return std::nullopt; }

  void on_response(ResponseContext& context) const override {
    const auto& request = context.request;
    if (!gzip_enabled_ || request.method() == http::verb::head) return;
    // Traefik also skips requests whose own Content-Type is excluded (text/event-stream...).
    if (excluded(media_type(request[http::field::content_type]))) return;
    // Without Accept-Encoding any coding is acceptable (RFC 9110), but Traefik only uses one when
    // defaultEncoding names it.
    const auto accept = request.find(http::field::accept_encoding);
    if (accept == request.end() ? !gzip_default_ : !accepts_gzip(accept->value())) return;

    auto& response = context.response;
    response.insert(http::field::vary, "Accept-Encoding");
    const unsigned status = response.result_int();
    if (status < 200 || status == 204 || status == 206 || status == 304) return;
    if (response.find(http::field::content_encoding) != response.end()) return;
    const auto type = media_type(response[http::field::content_type]);
    if (!included_.empty()) {
      if (std::find(included_.begin(), included_.end(), type) == included_.end()) return;
    } else if (excluded(type)) {
      return;
    }
    std::optional<std::size_t> length;
    if (auto it = response.find(http::field::content_length); it != response.end()) {
      std::size_t value = 0;
      const auto text = it->value();
      if (std::from_chars(text.data(), text.data() + text.size(), value).ec == std::errc{}) {
        length = value;
      }
    }
    context.state.compressor.emplace(min_bytes_, length);
  }

 private:
  bool excluded(const std::string& type) const {
    return std::find(excluded_.begin(), excluded_.end(), type) != excluded_.end();
  }

  std::vector<std::string> excluded_;
  std::vector<std::string> included_;
  std::size_t min_bytes_;
  bool gzip_enabled_;
  bool gzip_default_;
};

}  // namespace

Compiled make_compress(const config::Compress& c) {
  if (!c.excluded_content_types.empty() && !c.included_content_types.empty()) {
    return std::string("excludedContentTypes and includedContentTypes are mutually exclusive");
  }
  // Traefik's defaults: all three encodings. berth produces gzip only; a client that accepts
  // gzip gets gzip even where Traefik would prefer br or zstd.
  const config::StringList encodings =
      c.encodings.empty() ? config::StringList{"gzip", "br", "zstd"} : c.encodings;
  for (const auto& encoding : encodings) {
    if (encoding != "gzip" && encoding != "br" && encoding != "zstd") {
      return "unsupported encoding: " + encoding;
    }
  }
  if (!c.default_encoding.empty() &&
      std::find(encodings.begin(), encodings.end(), c.default_encoding) == encodings.end()) {
    return "unsupported default encoding: " + c.default_encoding;
  }
  const bool gzip = std::find(encodings.begin(), encodings.end(), "gzip") != encodings.end();
  // gRPC is never compressed by this middleware, whatever the configuration says.
  std::vector<std::string> excluded{"application/grpc"};
  for (const auto& type : c.excluded_content_types) excluded.push_back(media_type(type));
  std::vector<std::string> included;
  for (const auto& type : c.included_content_types) included.push_back(media_type(type));
  // As Traefik, anything but a positive size means the default.
  const auto min_bytes = c.min_response_body_bytes > 0
                             ? static_cast<std::size_t>(c.min_response_body_bytes)
                             : std::size_t{1024};
  return std::make_shared<const Compress>(std::move(excluded), std::move(included), min_bytes, gzip,
                                          c.default_encoding == "gzip");
}

}  // namespace berth::middleware
