#include "password.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>

namespace berth::middleware {
namespace {

constexpr std::string_view crypt_alphabet =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool in_alphabet(std::string_view text) {
  return text.find_first_not_of(crypt_alphabet) == std::string_view::npos;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

using Digest = std::array<unsigned char, EVP_MAX_MD_SIZE>;

struct MdContext {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  explicit MdContext(const EVP_MD* md) { EVP_DigestInit_ex(ctx.get(), md, nullptr); }
  void update(std::string_view data) { EVP_DigestUpdate(ctx.get(), data.data(), data.size()); }
  void update(const unsigned char* data, std::size_t size) {
    EVP_DigestUpdate(ctx.get(), data, size);
  }
  Digest final() {
    Digest digest{};
    EVP_DigestFinal_ex(ctx.get(), digest.data(), nullptr);
    return digest;
  }
};

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool crypt_matches(std::string_view password, std::string_view hash) {
  auto data = std::make_unique<crypt_data>();
  const std::string key(password);
  const std::string setting(hash);
  const char* result = crypt_rn(key.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  return result != nullptr && result[0] != '*' && constant_time_equal(result, hash);
}

}  // namespace

std::string md5_crypt(std::string_view password, std::string_view salt, std::string_view magic) {
  salt = salt.substr(0, std::min<std::size_t>(salt.size(), 8));
  MdContext alternate(EVP_md5());
  alternate.update(password);
  alternate.update(salt);
  alternate.update(password);
  const Digest alt = alternate.final();

  MdContext main(EVP_md5());
  main.update(password);
  main.update(magic);
  main.update(salt);
  for (std::size_t left = password.size(); left > 0; left -= std::min<std::size_t>(left, 16)) {
    main.update(alt.data(), std::min<std::size_t>(left, 16));
  }
  for (std::size_t i = password.size(); i != 0; i >>= 1) {
    if ((i & 1U) != 0) {
      main.update(std::string_view("\0", 1));
    } else {
      main.update(password.substr(0, 1));
    }
  }
  Digest digest = main.final();

  // 1000 rounds to slow down brute force, as the algorithm prescribes.
  for (int round = 0; round < 1000; ++round) {
    MdContext step(EVP_md5());
    if ((round & 1) != 0) {
      step.update(password);
    } else {
      step.update(digest.data(), 16);
    }
    if (round % 3 != 0) step.update(salt);
    if (round % 7 != 0) step.update(password);
    if ((round & 1) != 0) {
      step.update(digest.data(), 16);
    } else {
      step.update(password);
    }
    digest = step.final();
  }

  std::string out(magic);
  out.append(salt).push_back('$');
  auto encode = [&](unsigned a, unsigned b, unsigned c, int count) {
    unsigned value = (a << 16U) | (b << 8U) | c;
    for (int i = 0; i < count; ++i) {
      out.push_back(crypt_alphabet[value & 0x3FU]);
      value >>= 6U;
    }
  };
  const auto d = [&](std::size_t i) { return static_cast<unsigned>(digest[i]); };
  encode(d(0), d(6), d(12), 4);
  encode(d(1), d(7), d(13), 4);
  encode(d(2), d(8), d(14), 4);
  encode(d(3), d(9), d(15), 4);
  encode(d(4), d(10), d(5), 4);
  encode(0, 0, d(11), 2);
  return out;
}

std::optional<std::string> check_hash_format(std::string_view hash) {
  if (hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) {
    // $2y$NN$ + 22 characters of salt + 31 of hash.
    const bool ok = hash.size() == 60 && hash[6] == '$' && hash[4] >= '0' && hash[4] <= '9' &&
                    hash[5] >= '0' && hash[5] <= '9' && in_alphabet(hash.substr(7));
    if (!ok) return "malformed bcrypt hash";
    const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < 4 || cost > 31) return "bcrypt cost must be between 4 and 31";
    return std::nullopt;
  }
  if (hash.starts_with("$apr1$") || hash.starts_with("$1$")) {
    const auto body = hash.substr(hash.starts_with("$1$") ? 3 : 6);
    const auto sep = body.find('$');
    if (sep == std::string_view::npos || sep > 8 || body.size() - sep - 1 != 22 ||
        !in_alphabet(body.substr(sep + 1))) {
      return "malformed MD5 hash";
    }
    return std::nullopt;
  }
  if (hash.starts_with("{SHA}")) {
    if (hash.size() != 5 + 28) return "malformed {SHA} hash";
    return std::nullopt;
  }
  if (hash.starts_with("$5$") || hash.starts_with("$6$")) {
    if (hash.find('$', 3) == std::string_view::npos) return "malformed SHA-crypt hash";
    return std::nullopt;
  }
  return std::string("unsupported password hash (use bcrypt, apr1/MD5, or {SHA})");
}

bool check_password(std::string_view password, std::string_view hash) {
  if (hash.starts_with("{SHA}")) {
    MdContext sha(EVP_sha1());
    sha.update(password);
    const Digest digest = sha.final();
    return constant_time_equal(base64(digest.data(), 20), hash.substr(5));
  }
  if (hash.starts_with("$apr1$")) {
    const auto body = hash.substr(6);
    const auto salt = body.substr(0, body.find('$'));
    return constant_time_equal(md5_crypt(password, salt, "$apr1$"), hash);
  }
  return crypt_matches(password, hash);
}

}  // namespace berth::middleware
