#include <arpa/inet.h>  // inet_pton

#include <algorithm>
#include <array>

#include "berth/rules/rule.hpp"

namespace berth::rules {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  const bool v6 = text.find(':') != std::string_view::npos;
  if (const std::size_t zone = text.find('%'); zone != std::string_view::npos) {
    // A zone ("fe80::1%eth0") only makes sense on IPv6 and does not take part in matching.
    if (!v6 || zone + 1 == text.size()) return std::nullopt;
    text = text.substr(0, zone);
  }
  // inet_pton wants a NUL-terminated string and the longest IPv6 text form has 45 characters.
  std::array<char, 64> buffer{};
  if (text.empty() || text.size() >= buffer.size() || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::copy(text.begin(), text.end(), buffer.begin());

  IpAddress address;
  if (v6) {
    if (inet_pton(AF_INET6, buffer.data(), address.bytes.data()) != 1) return std::nullopt;
    // As Go's net.IP.To4: an IPv4-mapped IPv6 address is an IPv4 address.
    static constexpr std::array<std::uint8_t, 12> mapped_prefix{0, 0, 0, 0, 0,    0,
                                                                0, 0, 0, 0, 0xFF, 0xFF};
    address.is_v4 = std::equal(mapped_prefix.begin(), mapped_prefix.end(), address.bytes.begin());
    return address;
  }
  std::array<std::uint8_t, 4> v4{};
  if (inet_pton(AF_INET, buffer.data(), v4.data()) != 1) return std::nullopt;
  address.bytes[10] = 0xFF;
  address.bytes[11] = 0xFF;
  std::copy(v4.begin(), v4.end(), address.bytes.begin() + 12);
  address.is_v4 = true;
  return address;
}

}  // namespace berth::rules
