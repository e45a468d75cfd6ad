#include "berth/runtime/sticky.hpp"

#include <openssl/sha.h>

#include <array>
#include <cctype>

namespace berth::runtime {
namespace {

std::string hex_prefix(const unsigned char* digest, std::size_t digits) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  for (std::size_t i = 0; i < digits; ++i) {
    const unsigned byte = digest[i / 2];
    out.push_back(hex[(i % 2 == 0) ? (byte >> 4U) : (byte & 0xFU)]);
  }
  return out;
}

bool is_token_char(char c) {
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return std::isalnum(static_cast<unsigned char>(c)) != 0;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string default_cookie_name(std::string_view service_name) {
  std::string data = "_TRAEFIK_BACKEND_";
  data.append(service_name);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return "_" + hex_prefix(digest.data(), 5);
}

std::string sanitize_cookie_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!is_token_char(c)) c = '_';
  }
  return out;
}

std::string sticky_value(std::string_view server_url) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(server_url.data()), server_url.size(),
         digest.data());
  return hex_prefix(digest.data(), 16);
}

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    const std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim(pair.substr(eq + 1));
    // Go's cookie parser accepts a double-quoted value and strips the quotes.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

std::string format_set_cookie(const StickyCookie& cookie, std::string_view value) {
  std::string out = cookie.name;
  out += '=';
  out += value;
  if (!cookie.path.empty()) out += "; Path=" + cookie.path;
  if (!cookie.domain.empty()) out += "; Domain=" + cookie.domain;
  if (cookie.max_age > 0) {
    out += "; Max-Age=" + std::to_string(cookie.max_age);
  } else if (cookie.max_age < 0) {
    out += "; Max-Age=0";
  }
  if (cookie.http_only) out += "; HttpOnly";
  if (cookie.secure) out += "; Secure";
  if (iequals(cookie.same_site, "none")) {
    out += "; SameSite=None";
  } else if (iequals(cookie.same_site, "lax")) {
    out += "; SameSite=Lax";
  } else if (iequals(cookie.same_site, "strict")) {
    out += "; SameSite=Strict";
  }
  return out;
}

}  // namespace berth::runtime
