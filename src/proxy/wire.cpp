#include "wire.hpp"

namespace berth::proxy {
namespace {

void append_version(unsigned version, std::string& out) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

void append_fields(const http::fields& fields, std::string& out) {
  for (const auto& field : fields) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

void append_head(const http::request_header<>& header, std::string& out) {
  out += header.method_string();
  out += ' ';
  out += header.target();
  out += ' ';
  append_version(header.version(), out);
  out += "\r\n";
  append_fields(header, out);
}

void append_head(const http::response_header<>& header, std::string& out) {
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
