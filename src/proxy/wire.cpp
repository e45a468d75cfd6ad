#include "wire.hpp"

#include <cstring>

namespace berth::proxy {
namespace {

/// Writes a head into space sized for it beforehand: one resize instead of a capacity check and
/// a length update for each of its pieces.
class HeadWriter {
 public:
  explicit HeadWriter(char* at) noexcept : at_(at) {}
  HeadWriter& operator<<(std::string_view text) noexcept {
    // An empty view may have no data pointer, which memcpy must not get.
    if (!text.empty()) std::memcpy(at_, text.data(), text.size());
    at_ += text.size();
    return *this;
  }
  HeadWriter& operator<<(char c) noexcept {
    *at_++ = c;
    return *this;
  }
  void version(unsigned version) noexcept {
    *this << "HTTP/" << static_cast<char>('0' + version / 10) << '.'
          << static_cast<char>('0' + version % 10);
  }
  void field(std::string_view name, std::string_view value) noexcept {
    *this << name << ": " << value << "\r\n";
  }

 private:
  char* at_;
};

constexpr std::size_t version_size = 8;    // "HTTP/1.1"
constexpr std::size_t field_overhead = 4;  // ": " and "\r\n"

std::size_t fields_size(const Fields& fields) noexcept {
  std::size_t size = 0;
  for (const auto& field : fields) {
    size += field.name_string().size() + field.value().size() + field_overhead;
  }
  return size;
}

void write_fields(const Fields& fields, HeadWriter& out) noexcept {
  for (const auto& field : fields) out.field(field.name_string(), field.value());
}

/// Makes room for `size` more bytes at the end of `out` and returns a writer there.
HeadWriter extend(std::string& out, std::size_t size) {
  const std::size_t start = out.size();
  out.resize(start + size);
  return HeadWriter(out.data() + start);
}

}  // namespace

void append_head(const RequestHeader& header, std::span<const FieldLine> extra, std::string& out) {
  const std::string_view method = header.method_string();
  const std::string_view target = header.target();
  std::size_t size =
      method.size() + 1 + target.size() + 1 + version_size + 2 + fields_size(header) + 2;
  for (const auto& line : extra) size += line.name.size() + line.value.size() + field_overhead;
  auto writer = extend(out, size);
  writer << method << ' ' << target << ' ';
  writer.version(header.version());
  writer << "\r\n";
  write_fields(header, writer);
  for (const auto& line : extra) writer.field(line.name, line.value);
  writer << "\r\n";
}

void append_head(const ResponseHeader& header, std::string& out) {
  const std::string_view reason = header.reason();
  const std::size_t size = version_size + 5 + reason.size() + 2 + fields_size(header) + 2;
  auto writer = extend(out, size);
  writer.version(header.version());
  const unsigned status = header.result_int();
  writer << ' ' << static_cast<char>('0' + status / 100 % 10)
         << static_cast<char>('0' + status / 10 % 10) << static_cast<char>('0' + status % 10) << ' '
         << reason << "\r\n";
  write_fields(header, writer);
  writer << "\r\n";
}

ChunkSizeLine::ChunkSizeLine(std::size_t size) noexcept {
  constexpr std::string_view hex = "0123456789abcdef";
  std::size_t at = digits_.size();
  digits_[--at] = '\n';
  digits_[--at] = '\r';
  do {
    digits_[--at] = hex[size & 0xf];
    size >>= 4;
  } while (size != 0);
  start_ = at;
}

}  // namespace berth::proxy
