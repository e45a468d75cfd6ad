#include <catch2/catch.hpp>

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "berth/file/provider.hpp"
#include "support/temp_dir.hpp"

using namespace berth;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using berth::test::TempDir;

namespace {

// Generous: the machine running the tests may be busy; waits end as soon as the condition holds.
constexpr auto timeout = 10s;
// How long to wait before concluding that nothing more comes (several debounce windows).
constexpr auto quiet = 600ms;
constexpr std::chrono::milliseconds debounce{50};

/// Writes in place: truncates and rewrites the same inode.
void write_file(const fs::path& path, const std::string& text) {
  std::ofstream stream{path, std::ios::binary | std::ios::trunc};
  stream << text;
}

/// Writes a hidden temporary file and renames it over `path`, as editors and `kubectl cp` do.
void replace_file(const fs::path& path, const std::string& text) {
  const auto temporary = path.parent_path() / ("." + path.filename().string() + ".tmp");
  write_file(temporary, text);
  fs::rename(temporary, path);
}

std::string router_yaml(const std::string& name, const std::string& host) {
  return "http:\n  routers:\n    " + name + ":\n      rule: \"Host(`" + host +
         "`)\"\n      service: app\n";
}

std::string rule_of(const file::FileUpdate& update, const std::string& router) {
  const auto& routers = update.configuration.http.routers;
  const auto found = routers.find(router);
  return found == routers.end() ? std::string{} : found->second.rule;
}

bool has_error(const file::FileUpdate& update) {
  for (const auto& diagnostic : update.diagnostics) {
    if (diagnostic.severity == config::Severity::error) return true;
  }
  return false;
}

/// Keeps every update the provider delivers (from its own thread).
class Collector {
 public:
  file::Provider::Callback callback() {
    return [this](std::shared_ptr<const file::FileUpdate> update) {
      const std::lock_guard lock{mutex_};
      updates_.push_back(std::move(update));
      changed_.notify_all();
    };
  }

  /// The first update from the `from`-th on that satisfies `accept`, or null after the timeout.
  std::shared_ptr<const file::FileUpdate> wait_for(
      const std::function<bool(const file::FileUpdate&)>& accept, std::size_t from = 0) {
    std::unique_lock lock{mutex_};
    std::shared_ptr<const file::FileUpdate> found;
    changed_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < updates_.size(); ++i) {
        if (accept(*updates_[i])) {
          found = updates_[i];
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::size_t count() {
    const std::lock_guard lock{mutex_};
    return updates_.size();
  }

  std::shared_ptr<const file::FileUpdate> last() {
    const std::lock_guard lock{mutex_};
    return updates_.empty() ? nullptr : updates_.back();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<const file::FileUpdate>> updates_;
};

file::Provider::Options directory_options(const fs::path& directory) {
  file::Provider::Options options;
  options.source.directory = directory.string();
  options.debounce = debounce;
  return options;
}

file::Provider::Options filename_options(const fs::path& filename) {
  file::Provider::Options options;
  options.source.filename = filename.string();
  options.debounce = debounce;
  return options;
}

}  // namespace

TEST_CASE("provider: a directory is watched through edits, errors and deletions") {
  TempDir dir("berth-file");
  const auto a = dir.path() / "a.yml";
  const auto b = dir.path() / "b.toml";
  write_file(a, router_yaml("web", "v1"));
  write_file(dir.path() / "notes.txt", "not configuration");

  Collector collector;
  file::Provider provider{directory_options(dir.path()), collector.callback()};
  provider.start();

  // The first update is delivered by start() itself.
  REQUIRE(collector.count() == 1);
  const auto first = collector.last();
  CHECK(rule_of(*first, "web") == "Host(`v1`)");
  CHECK(first->files == std::vector<std::string>{a.string()});
  CHECK(first->diagnostics.empty());

  SECTION("changes in place and by rename are picked up") {
    write_file(a, router_yaml("web", "v2"));
    CHECK(collector.wait_for([](const auto& u) { return rule_of(u, "web") == "Host(`v2`)"; }));

    replace_file(a, router_yaml("web", "v3"));
    CHECK(collector.wait_for([](const auto& u) { return rule_of(u, "web") == "Host(`v3`)"; }));
    CHECK(collector.last()->files == std::vector<std::string>{a.string()});
  }

  SECTION("a broken file keeps the last good configuration, with the error, until fixed") {
    const auto before = collector.count();
    write_file(a, "http:\n  routers:\n    web: [unclosed\n");
    const auto broken = collector.wait_for(has_error, before);
    REQUIRE(broken);
    CHECK(rule_of(*broken, "web") == "Host(`v1`)");
    REQUIRE(broken->diagnostics.size() == 1);
    CHECK(broken->diagnostics[0].resource == config::ResourceKind::provider);
    CHECK(broken->diagnostics[0].message.find(a.string() + ":4:") == 0);

    const auto after_break = collector.count();
    write_file(a, router_yaml("web", "fixed"));
    const auto fixed = collector.wait_for(
        [](const auto& u) { return rule_of(u, "web") == "Host(`fixed`)"; }, after_break);
    REQUIRE(fixed);
    CHECK(fixed->diagnostics.empty());
  }

  SECTION("files come and go") {
    write_file(b, "[http.routers.api]\nrule = \"Host(`api`)\"\nservice = \"app\"\n");
    const auto added = collector.wait_for([](const auto& u) { return !rule_of(u, "api").empty(); });
    REQUIRE(added);
    CHECK(rule_of(*added, "web") == "Host(`v1`)");
    CHECK(added->files == std::vector<std::string>{a.string(), b.string()});

    fs::remove(b);
    const auto removed = collector.wait_for(
        [](const auto& u) { return u.files.size() == 1 && rule_of(u, "api").empty(); },
        collector.count());
    REQUIRE(removed);
    CHECK(rule_of(*removed, "web") == "Host(`v1`)");

    fs::remove(a);
    const auto empty = collector.wait_for(
        [](const auto& u) { return u.configuration.http.routers.empty(); }, collector.count());
    REQUIRE(empty);
    CHECK(empty->files.empty());
    CHECK(empty->diagnostics.empty());
  }

  SECTION("a duplicate across files is an error naming both") {
    write_file(b, "[http.routers.web]\nrule = \"Host(`other`)\"\n");
    const auto conflict = collector.wait_for(has_error);
    REQUIRE(conflict);
    CHECK(conflict->configuration.http.routers.empty());
    REQUIRE(conflict->diagnostics.size() == 1);
    CHECK(conflict->diagnostics[0].resource == config::ResourceKind::router);
    CHECK(conflict->diagnostics[0].message.find(a.string() + " and " + b.string()) !=
          std::string::npos);
  }

  // Stopping is prompt: the watcher waits on an eventfd, not on a timer.
  const auto stop_started = std::chrono::steady_clock::now();
  provider.stop();
  CHECK(std::chrono::steady_clock::now() - stop_started < 2s);
  const auto after_stop = collector.count();
  write_file(a, router_yaml("web", "after-stop"));
  std::this_thread::sleep_for(quiet);
  CHECK(collector.count() == after_stop);
}

TEST_CASE("provider: a watched file that is deleted keeps its last configuration") {
  TempDir dir("berth-file");
  const auto conf = dir.path() / "dynamic.toml";
  write_file(conf, "[http.routers.web]\nrule = \"Host(`a`)\"\nservice = \"app\"\n");
  write_file(dir.path() / "other.toml", "not = [valid");

  Collector collector;
  file::Provider provider{filename_options(conf), collector.callback()};
  provider.start();
  REQUIRE(collector.count() == 1);
  CHECK(rule_of(*collector.last(), "web") == "Host(`a`)");
  CHECK_FALSE(has_error(*collector.last()));

  fs::remove(conf);
  const auto missing = collector.wait_for(has_error);
  REQUIRE(missing);
  CHECK(rule_of(*missing, "web") == "Host(`a`)");
  CHECK(missing->diagnostics.at(0).message.find("cannot read") != std::string::npos);

  write_file(conf, "[http.routers.web]\nrule = \"Host(`b`)\"\nservice = \"app\"\n");
  const auto back = collector.wait_for(
      [](const auto& u) { return rule_of(u, "web") == "Host(`b`)" && !has_error(u); });
  CHECK(back);
}

TEST_CASE("provider: a burst of writes gives one or two updates, the same content none") {
  TempDir dir("berth-file");
  const auto conf = dir.path() / "dynamic.yml";
  write_file(conf, router_yaml("web", "v0"));

  Collector collector;
  file::Provider provider{filename_options(conf), collector.callback()};
  provider.start();
  REQUIRE(collector.count() == 1);

  for (int i = 1; i <= 10; ++i) write_file(conf, router_yaml("web", "v" + std::to_string(i)));
  REQUIRE(collector.wait_for([](const auto& u) { return rule_of(u, "web") == "Host(`v10`)"; }));
  std::this_thread::sleep_for(quiet);
  const auto after_burst = collector.count();
  CHECK(after_burst >= 2);
  CHECK(after_burst <= 3);
  CHECK(rule_of(*collector.last(), "web") == "Host(`v10`)");

  // Rewriting the same content (and touching the directory) publishes nothing new.
  write_file(conf, router_yaml("web", "v10"));
  replace_file(conf, router_yaml("web", "v10"));
  write_file(dir.path() / "unrelated.txt", "x");
  std::this_thread::sleep_for(quiet);
  CHECK(collector.count() == after_burst);
}

TEST_CASE("provider: a broken file at start gives an empty configuration and the error") {
  TempDir dir("berth-file");
  const auto conf = dir.path() / "dynamic.yml";
  write_file(conf, "http:\n  routers:\n    web:\n      rule: {{ .Host }}\n");

  Collector collector;
  file::Provider provider{filename_options(conf), collector.callback()};
  provider.start();
  REQUIRE(collector.count() == 1);
  const auto first = collector.last();
  CHECK(first->configuration.http.routers.empty());
  REQUIRE(first->diagnostics.size() == 1);
  CHECK(first->diagnostics[0].message.find(conf.string() + ":4:13: Go templates") == 0);

  replace_file(conf, router_yaml("web", "ok"));
  CHECK(collector.wait_for([](const auto& u) { return rule_of(u, "web") == "Host(`ok`)"; }));
}

TEST_CASE("provider: without watch, start loads once and nothing follows") {
  TempDir dir("berth-file");
  const auto conf = dir.path() / "dynamic.yml";
  write_file(conf, router_yaml("web", "once"));

  auto options = filename_options(conf);
  options.source.watch = false;
  Collector collector;
  file::Provider provider{options, collector.callback()};
  provider.start();
  REQUIRE(collector.count() == 1);
  CHECK(rule_of(*collector.last(), "web") == "Host(`once`)");

  write_file(conf, router_yaml("web", "twice"));
  std::this_thread::sleep_for(quiet);
  CHECK(collector.count() == 1);
}

TEST_CASE("provider: options must name one file or one directory") {
  Collector collector;
  CHECK_THROWS_AS(file::Provider({}, collector.callback()), std::invalid_argument);
  file::Provider::Options both;
  both.source.filename = "a.yml";
  both.source.directory = "conf";
  CHECK_THROWS_AS(file::Provider(both, collector.callback()), std::invalid_argument);
}
