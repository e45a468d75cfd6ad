#include "wire.hpp"

namespace berth::proxy {
namespace {

void append_version(unsigned version, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void append_field(std::string_view name, std::string_view value, std::string& out) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void append_fields(const Fields& fields, std::string& out) {
  for (const auto& field : fields) append_field(field.name_string(), field.value(), out);
}

}  // namespace

void append_head(const RequestHeader& header, std::span<const FieldLine> extra, std::string& out) {
  out += header.method_string();
  out += ' ';
  out += header.target();
  out += ' ';
  append_version(header.version(), out);
  out += "\r\n";
  append_fields(header, out);
  for (const auto& line : extra) append_field(line.name, line.value, out);
  out += "\r\n";
}

void append_head(const ResponseHeader& header, std::string& out) {
  append_version(header.version(), out);
  const unsigned status = header.result_int();
  out += ' ';
  out += static_cast<char>('0' + status / 100 % 10);
  out += static_cast<char>('0' + status / 10 % 10);
  out += static_cast<char>('0' + status % 10);
  out += ' ';
  out += header.reason();
  out += "\r\n";
  append_fields(header, out);
  out += "\r\n";
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
