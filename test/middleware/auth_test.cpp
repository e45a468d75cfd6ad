#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "support.hpp"

namespace berth::middleware::test {
namespace {

// Made with `htpasswd`/`openssl passwd` and Python's crypt for the password "secret".
constexpr const char* bcrypt_user =
    "bob:$2b$04$R4fiuiP7ImQcHoWgfHq16edgF8458bNVUt0L39a9AUCcaSM3DAFoG";
constexpr const char* apr1_user = "ann:$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0";
constexpr const char* md5_user = "max:$1$saltsalt$9xy1btjgzLYfb7hivXtC//";
constexpr const char* sha_user = "sam:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=";
constexpr const char* sha512_user =
    "sue:$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq."
    "H91p5hVO1";

std::string base64(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto byte = [&](std::size_t k) -> unsigned {
    return k < in.size() ? unsigned{static_cast<unsigned char>(in[k])} : 0U;
  };
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const unsigned v = (byte(i) << 16U) | (byte(i + 1) << 8U) | byte(i + 2);
    out.push_back(alphabet[(v >> 18U) & 63U]);
    out.push_back(alphabet[(v >> 12U) & 63U]);
    out.push_back(i + 1 < in.size() ? alphabet[(v >> 6U) & 63U] : '=');
    out.push_back(i + 2 < in.size() ? alphabet[v & 63U] : '=');
  }
  return out;
}

Decision attempt(const Chain& chain, const std::string& credentials, Exchange& ex) {
  ex.request.set(http::field::authorization, "Basic " + base64(credentials));
  return ex.run(chain);
}

}  // namespace

TEST_CASE("basicAuth checks every supported hash format", "[middleware][auth]") {
  config::BasicAuth c;
  c.users = {bcrypt_user, apr1_user, md5_user, sha_user, sha512_user};
  auto chain = single(c);
  const auto user = GENERATE(as<std::string>{}, "bob", "ann", "max", "sam", "sue");
  SECTION("right password") {
    Exchange ex{request("/")};
    CHECK(proceeds(attempt(*chain, user + ":secret", ex)));
  }
  SECTION("wrong password") {
    Exchange ex{request("/")};
    const auto& response = responded(attempt(*chain, user + ":Secret", ex)).response;
    CHECK(response.result() == http::status::unauthorized);
    CHECK(field(response, "WWW-Authenticate") == "Basic realm=\"traefik\"");
  }
}

TEST_CASE("basicAuth answers 401 without or with malformed credentials", "[middleware][auth]") {
  config::BasicAuth c;
  c.users = {sha_user};
  c.realm = "private";
  auto chain = single(c);
  const char* headers[] = {"", "Bearer abc", "Basic !!!", "Basic c2Ft"};
  for (const char* header : headers) {
    Exchange ex{request("/")};
    if (*header != '\0') ex.request.set(http::field::authorization, header);
    const auto& response = responded(ex.run(*chain)).response;
    CHECK(response.result_int() == 401);
    CHECK(field(response, "WWW-Authenticate") == "Basic realm=\"private\"");
    CHECK(response.body() == "401 Unauthorized\n");
  }
  Exchange unknown{request("/")};
  CHECK(std::holds_alternative<Respond>(attempt(*chain, "nobody:secret", unknown)));
}

TEST_CASE("basicAuth without users refuses everyone", "[middleware][auth]") {
  auto chain = single(config::BasicAuth{});
  Exchange ex{request("/")};
  CHECK(responded(attempt(*chain, "sam:secret", ex)).response.result_int() == 401);
}

TEST_CASE("basicAuth headerField and removeHeader", "[middleware][auth]") {
  config::BasicAuth c;
  c.users = {sha_user};
  c.header_field = "X-WebAuth-User";
  c.remove_header = true;
  auto chain = single(c);
  Exchange ex{request("/")};
  REQUIRE(proceeds(attempt(*chain, "sam:secret", ex)));
  CHECK(field(ex.request, "X-WebAuth-User") == "sam");
  CHECK(ex.request.find(http::field::authorization) == ex.request.end());

  config::BasicAuth keep;
  keep.users = {sha_user};
  auto keep_chain = single(keep);
  Exchange kept{request("/")};
  REQUIRE(proceeds(attempt(*keep_chain, "sam:secret", kept)));
  CHECK(kept.request.find(http::field::authorization) != kept.request.end());
}

TEST_CASE("basicAuth reads usersFile; inline users win", "[middleware][auth]") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("berth-users-" + std::to_string(::getpid()) + ".htpasswd");
  {
    std::ofstream file(path);
    file << "# comment\n\n"
         << apr1_user << "\n"
         << "sam:{SHA}AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
  }
  config::BasicAuth c;
  c.users_file = path.string();
  c.users = {sha_user};
  auto chain = single(c);
  Exchange ann{request("/")};
  CHECK(proceeds(attempt(*chain, "ann:secret", ann)));
  Exchange sam{request("/")};
  CHECK(proceeds(attempt(*chain, "sam:secret", sam)));
  std::filesystem::remove(path);
}

TEST_CASE("basicAuth rejects bad options", "[middleware][auth]") {
  struct Case {
    config::StringList users;
    std::string file;
    const char* error;
  };
  const Case cases[] = {
      {{"nohash"}, "", "expected user:hash"},
      {{"bob:$2y$04$short"}, "", "malformed bcrypt hash"},
      {{"bob:$2y$99$R4fiuiP7ImQcHoWgfHq16edgF8458bNVUt0L39a9AUCcaSM3DAFoG"},
       "",
       "bcrypt cost must be between 4 and 31"},
      {{"bob:$apr1$salt"}, "", "malformed MD5 hash"},
      {{"bob:{SHA}short"}, "", "malformed {SHA} hash"},
      {{"bob:plaintext"}, "", "unsupported password hash"},
      {{}, "/nonexistent/berth/users", "cannot read users file \"/nonexistent/berth/users\""},
  };
  for (const auto& c : cases) {
    config::BasicAuth auth;
    auth.users = c.users;
    auth.users_file = c.file;
    CHECK_THAT(build_error(auth), Catch::Contains(c.error));
  }
}

}  // namespace berth::middleware::test
