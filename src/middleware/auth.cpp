// basicAuth: htpasswd users (bcrypt, apr1/MD5, {SHA}, and the crypt(3) forms $1$/$5$/$6$), 401 with
// WWW-Authenticate on failure.

#include <openssl/evp.h>

#include <fstream>
#include <map>
#include <variant>

#include "middleware.hpp"
#include "password.hpp"

namespace berth::middleware {
namespace {

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t size = static_cast<std::size_t>(n);
  if (text.ends_with("==")) {
    size -= 2;
  } else if (text.ends_with('=')) {
    size -= 1;
  }
  out.resize(size);
  return out;
}

class BasicAuth final : public Middleware {
 public:
  BasicAuth(std::map<std::string, std::string, std::less<>> users, std::string realm,
            std::string header_field, bool remove_header)
      : users_(std::move(users)),
        challenge_("Basic realm=\"" + realm + "\""),
        header_field_(std::move(header_field)),
        remove_header_(remove_header) {}

  std::optional<Decision> on_request(RequestContext& context) const override {
    auto& request = context.request;
    if (auto user = authenticate(request[http::field::authorization])) {
      if (!header_field_.empty()) request.set(header_field_, *user);
      if (remove_header_) request.erase(http::field::authorization);
      return std::nullopt;
    }
    auto response =
        make_response(http::status::unauthorized, "401 Unauthorized\n", request.version());
    response.set(http::field::www_authenticate, challenge_);
    return Respond{std::move(response)};
  }

 private:
  std::optional<std::string> authenticate(std::string_view header) const {
    constexpr std::string_view scheme = "basic ";
    if (header.size() < scheme.size() || !iequals(header.substr(0, scheme.size()), scheme)) {
      return std::nullopt;
    }
    const auto decoded = base64_decode(trim(header.substr(scheme.size())));
    if (!decoded) return std::nullopt;
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) return std::nullopt;
    const std::string_view user = std::string_view(*decoded).substr(0, colon);
    const std::string_view password = std::string_view(*decoded).substr(colon + 1);
    const auto it = users_.find(user);
    if (it == users_.end() || !check_password(password, it->second)) return std::nullopt;
    return std::string(user);
  }

  std::map<std::string, std::string, std::less<>> users_;
  std::string challenge_;
  std::string header_field_;
  bool remove_header_;
};

}  // namespace

Compiled make_basic_auth(const config::BasicAuth& c) {
  std::vector<std::string> lines;
  if (!c.users_file.empty()) {
    std::ifstream file(c.users_file);
    if (!file) return "cannot read users file \"" + c.users_file + "\"";
    std::string line;
    while (std::getline(file, line)) {
      const auto text = trim(line);
      if (text.empty() || text.starts_with('#')) continue;
      lines.emplace_back(text);
    }
  }
  // Inline users come after the file's, so they win for a name in both (as Traefik).
  // No users at all is accepted, as in Traefik: every request is then refused.
  lines.insert(lines.end(), c.users.begin(), c.users.end());

  std::map<std::string, std::string, std::less<>> users;
  for (const auto& line : lines) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0 ||
        line.find(':', colon + 1) != std::string::npos) {
      return "error parsing user \"" + line + "\": expected user:hash";
    }
    std::string name = line.substr(0, colon);
    std::string hash = line.substr(colon + 1);
    if (auto error = check_hash_format(hash)) return "user \"" + name + "\": " + *error;
    users[std::move(name)] = std::move(hash);
  }
  return std::make_shared<const BasicAuth>(std::move(users), c.realm.empty() ? "traefik" : c.realm,
                                           c.header_field, c.remove_header);
}

}  // namespace berth::middleware
