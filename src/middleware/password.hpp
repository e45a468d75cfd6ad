#pragma once
// htpasswd hash formats, as Traefik's basicAuth accepts them.

#include <optional>
#include <string>
#include <string_view>

namespace berth::middleware {

/// nullopt when `hash` is a supported, well-formed htpasswd hash; otherwise why not.
std::optional<std::string> check_hash_format(std::string_view hash);

/// True when `password` matches `hash` (bcrypt $2a$/$2b$/$2y$, $apr1$, $1$, $5$, $6$, {SHA}).
bool check_password(std::string_view password, std::string_view hash);

/// Apache's apr1 (and with magic "$1$" the classic) MD5-crypt of `password` with `salt` (at most 8
/// characters are used).
std::string md5_crypt(std::string_view password, std::string_view salt, std::string_view magic);

}  // namespace berth::middleware
