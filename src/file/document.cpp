#include "berth/file/document.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <map>
#include <ranges>
#include <sstream>
#include <system_error>

#include <yaml-cpp/yaml.h>
#include <toml.hpp>

#include <nlohmann/json.hpp>

#include "berth/config/json.hpp"

namespace berth::file {

namespace {

struct Position {
  std::size_t line = 0;
  std::size_t column = 0;
};

/// Where each JSON path (as config/json.hpp names paths in errors) starts in the file.
using Locations = std::map<std::string, Position, std::less<>>;

// Bounds on what a hostile file can make the conversion do: nesting depth (the recursion) and
// node count (YAML aliases can repeat a subtree exponentially often).
constexpr int max_depth = 64;
constexpr std::size_t max_nodes = 1'000'000;

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string{key} : path + '.' + std::string{key};
}

std::string element_path(const std::string& path, std::size_t index) {
  return path + '[' + std::to_string(index) + ']';
}

Position position_of(std::string_view text, std::size_t offset) {
  const auto before = text.substr(0, offset);
  const auto line_start = before.rfind('\n');
  const std::size_t column =
      line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  return Position{static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n')) + 1,
                  column};
}

/// The position of `text`'s first "{{", if any.
std::optional<Position> find_template(std::string_view text) {
  const auto at = text.find("{{");
  if (at == std::string_view::npos) return std::nullopt;
  return position_of(text, at);
}

/// Where TOML arrays and inline tables nest deeper than max_depth, if they do: toml11 parses them
/// recursively with no limit of its own, so a hostile file could exhaust the stack.
std::optional<Position> find_deep_toml(std::string_view text) {
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {
      i = std::min(text.find('\n', i), text.size());
    } else if (c == '"' || c == '\'') {
      const std::string_view quote =
          text.substr(i, 3) == std::string(3, c) ? text.substr(i, 3) : text.substr(i, 1);
      std::size_t j = i + quote.size();
      while (j < text.size() && text.substr(j, quote.size()) != quote) {
        if (quote.size() == 1 && text[j] == '\n') break;
        j += c == '"' && text[j] == '\\' ? 2U : 1U;
      }
      i = std::min(j + quote.size(), text.size()) - 1;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return position_of(text, i);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// YAML → JSON. Every scalar becomes a string (YAML's plain scalars are untyped); the decoder reads
// them with DecodeOptions::scalars_as_text, as Traefik reads every value as text.

class YamlConverter {
 public:
  YamlConverter(std::string_view file, Locations& locations) : file_(file), locations_(locations) {}

  bool convert(const YAML::Node& node, const std::string& path, nlohmann::json& out, int depth) {
    if (++nodes_ > max_nodes) return fail(node, "document too large");
    if (depth > max_depth) return fail(node, "nesting too deep");
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        out = node.Scalar();
        return true;
      case YAML::NodeType::Sequence: {
        out = nlohmann::json::array();
        std::size_t index = 0;
        for (const auto& item : node) {
          const auto item_path = element_path(path, index++);
          record(item_path, item);
          nlohmann::json value;
          if (!convert(item, item_path, value, depth + 1)) return false;
          out.push_back(std::move(value));
        }
        return true;
      }
      case YAML::NodeType::Map:
        out = nlohmann::json::object();
        return convert_map(node, path, out, depth);
      default:
        out = nullptr;
        return true;
    }
  }

  std::optional<FileError>& error() { return error_; }

 private:
  bool convert_map(const YAML::Node& node, const std::string& path, nlohmann::json& out,
                   int depth) {
    std::vector<YAML::Node> merges;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) return fail(entry.first, "a mapping key must be a scalar");
      const auto& key = entry.first.Scalar();
      // YAML's merge key (`<<: *defaults`), which Traefik's YAML library honours too.
      if (key == "<<" && entry.first.Tag() != "!") {
        merges.push_back(entry.second);
        continue;
      }
      if (out.contains(key)) return fail(entry.first, "duplicate key \"" + key + "\"");
      const auto path_of_key = child_path(path, key);
      record(path_of_key, entry.first);
      if (!convert(entry.second, path_of_key, out[key], depth + 1)) return false;
    }
    // Keys written out take precedence over merged ones, and earlier merges over later ones.
    for (const auto& merge : merges) {
      if (merge.IsSequence()) {
        for (const auto& item : merge) {
          if (!merge_into(item, path, out, depth)) return false;
        }
      } else if (!merge_into(merge, path, out, depth)) {
        return false;
      }
    }
    return true;
  }

  bool merge_into(const YAML::Node& source, const std::string& path, nlohmann::json& out,
                  int depth) {
    if (!source.IsMap()) return fail(source, "a merge key (<<) needs a mapping");
    nlohmann::json merged = nlohmann::json::object();
    if (!convert_map(source, path, merged, depth + 1)) return false;
    for (auto& [key, value] : merged.items()) {
      if (!out.contains(key)) out[key] = std::move(value);
    }
    return true;
  }

  void record(const std::string& path, const YAML::Node& node) {
    const auto mark = node.Mark();
    if (mark.is_null()) return;
    locations_.insert_or_assign(path, Position{static_cast<std::size_t>(mark.line) + 1,
                                               static_cast<std::size_t>(mark.column) + 1});
  }

  bool fail(const YAML::Node& node, std::string message) {
    if (error_) return false;
    FileError error{std::string{file_}, 0, 0, std::move(message)};
    const auto mark = node.Mark();
    if (!mark.is_null()) {
      error.line = static_cast<std::size_t>(mark.line) + 1;
      error.column = static_cast<std::size_t>(mark.column) + 1;
    }
    error_ = std::move(error);
    return false;
  }

  std::string_view file_;
  Locations& locations_;
  std::size_t nodes_ = 0;
  std::optional<FileError> error_;
};

std::variant<nlohmann::json, FileError> yaml_to_json(std::string_view text, std::string_view file,
                                                     Locations& locations) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string{text});
  } catch (const YAML::Exception& e) {
    FileError error{std::string{file}, 0, 0, e.msg};
    if (!e.mark.is_null()) {
      error.line = static_cast<std::size_t>(e.mark.line) + 1;
      error.column = static_cast<std::size_t>(e.mark.column) + 1;
    }
    return error;
  }
  YamlConverter converter{file, locations};
  nlohmann::json json;
  try {
    if (!converter.convert(root, {}, json, 0)) return *std::move(converter.error());
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports some malformed structures only when they are walked.
    return FileError{std::string{file}, 0, 0, e.msg};
  }
  return json;
}

// ---------------------------------------------------------------------------------------------
// TOML → JSON, keeping TOML's own types (the decoder still reads 443 into a string field).

using TomlValue = toml::value;

class TomlConverter {
 public:
  TomlConverter(std::string_view file, Locations& locations) : file_(file), locations_(locations) {}

  bool convert(const TomlValue& value, const std::string& path, nlohmann::json& out, int depth) {
    if (depth > max_depth) return fail(value, "nesting too deep");
    switch (value.type()) {
      case toml::value_t::boolean:
        out = value.as_boolean();
        return true;
      case toml::value_t::integer:
        out = static_cast<std::int64_t>(value.as_integer());
        return true;
      case toml::value_t::floating:
        out = value.as_floating();
        return true;
      case toml::value_t::string:
        out = value.as_string().str;
        return true;
      case toml::value_t::array: {
        out = nlohmann::json::array();
        std::size_t index = 0;
        for (const auto& item : value.as_array()) {
          const auto item_path = element_path(path, index++);
          record(item_path, item);
          nlohmann::json converted;
          if (!convert(item, item_path, converted, depth + 1)) return false;
          out.push_back(std::move(converted));
        }
        return true;
      }
      case toml::value_t::table: {
        out = nlohmann::json::object();
        for (const auto& [key, item] : value.as_table()) {
          const auto path_of_key = child_path(path, key);
          record(path_of_key, item);
          if (!convert(item, path_of_key, out[key], depth + 1)) return false;
        }
        return true;
      }
      case toml::value_t::empty:
        out = nullptr;
        return true;
      default: {
        // Dates and times: no field takes one; as text, the decoder names the field if one is met.
        std::ostringstream text;
        text << value;
        out = text.str();
        return true;
      }
    }
  }

  std::optional<FileError>& error() { return error_; }

 private:
  void record(const std::string& path, const TomlValue& value) {
    const auto location = value.location();
    if (location.line() == 0) return;
    locations_.insert_or_assign(path, Position{location.line(), location.column()});
  }

  bool fail(const TomlValue& value, std::string message) {
    const auto location = value.location();
    error_ = FileError{std::string{file_}, location.line(), location.column(), std::move(message)};
    return false;
  }

  std::string_view file_;
  Locations& locations_;
  std::optional<FileError> error_;
};

/// toml11's messages are several lines (a header, then the source with a caret); the first line
/// without its "[error] " prefix says what is wrong.
std::string first_line(std::string_view message) {
  message = message.substr(0, message.find('\n'));
  constexpr std::string_view prefix = "[error] ";
  if (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
  return std::string{message};
}

std::variant<nlohmann::json, FileError> toml_to_json(std::string_view text, std::string_view file,
                                                     Locations& locations) {
  if (const auto at = find_deep_toml(text)) {
    return FileError{std::string{file}, at->line, at->column, "nesting too deep"};
  }
  TomlValue root;
  try {
    std::istringstream stream{std::string{text}};
    root = toml::parse(stream, std::string{file});
  } catch (const toml::exception& e) {
    const auto location = e.location();
    return FileError{std::string{file}, location.line(), location.column(), first_line(e.what())};
  } catch (const std::exception& e) {
    return FileError{std::string{file}, 0, 0, first_line(e.what())};
  }
  TomlConverter converter{file, locations};
  nlohmann::json json;
  if (!converter.convert(root, {}, json, 0)) return *std::move(converter.error());
  return json;
}

// ---------------------------------------------------------------------------------------------
// JSON → Document

/// The error at `path`, placed at the nearest enclosing path whose position is known.
FileError located(std::string_view file, const Locations& locations, const config::JsonError& e) {
  FileError error{std::string{file}, 0, 0, e.to_string()};
  std::string_view path = e.path;
  while (!path.empty()) {
    if (const auto found = locations.find(path); found != locations.end()) {
      error.line = found->second.line;
      error.column = found->second.column;
      break;
    }
    const auto cut = path.find_last_of(".[");
    path = path.substr(0, cut == std::string_view::npos ? 0 : cut);
  }
  return error;
}

std::variant<Document, FileError> decode(const nlohmann::json& root, const Locations& locations,
                                         std::string_view file) {
  using config::json_detail::same_name;
  Document document;
  if (root.is_null()) return document;  // an empty file configures nothing
  if (!root.is_object()) {
    return FileError{
        std::string{file}, 1, 1,
        "expected a mapping of sections (http, tls), got " + config::json_detail::type_of(root)};
  }
  constexpr config::DecodeOptions options{.scalars_as_text = true};
  for (const auto& [key, value] : root.items()) {
    std::optional<config::JsonError> error;
    if (same_name(key, "http")) {
      if (!value.is_null()) {
        error = config::from_json(value, document.configuration.http, key, options);
      }
    } else if (same_name(key, "tls")) {
      if (!value.is_null()) error = config::from_json(value, document.tls, key, options);
    } else if (same_name(key, "tcp") || same_name(key, "udp")) {
      document.diagnostics.push_back({config::ResourceKind::provider,
                                      std::string{file},
                                      {},
                                      "the " + key + " section is ignored: berth routes HTTP only",
                                      config::Severity::info});
    } else {
      error = config::JsonError{key, "unknown section (expected http, tls, tcp or udp)"};
    }
    if (error) return located(file, locations, *error);
  }
  return document;
}

std::string list_names(const std::vector<std::string>& files) {
  std::string out;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i > 0) out += i + 1 == files.size() ? " and " : ", ";
    out += files[i];
  }
  return out;
}

/// Collects one kind of named resource from every file, dropping the names defined more than once.
template <class T>
void merge_named(const std::vector<std::pair<std::string, const std::map<std::string, T>*>>& from,
                 std::map<std::string, T>& into, config::Diagnostics& diagnostics,
                 config::ResourceKind kind, std::string_view what) {
  std::map<std::string, std::vector<std::string>> owners;
  for (const auto& [file, resources] : from) {
    for (const auto& name : *resources | std::views::keys) owners[name].push_back(file);
  }
  for (const auto& [file, resources] : from) {
    for (const auto& [name, resource] : *resources) {
      if (owners[name].size() == 1) into.insert_or_assign(name, resource);
    }
  }
  for (const auto& [name, files] : owners) {
    if (files.size() < 2) continue;
    const bool named_resource = kind != config::ResourceKind::provider;
    diagnostics.push_back({kind,
                           named_resource ? name : std::string{what} + "." + name,
                           {},
                           std::string{what} + " \"" + name + "\" is defined in " +
                               list_names(files) + "; it is ignored until only one file defines it",
                           config::Severity::error});
  }
}

template <class T, class Select>
std::vector<std::pair<std::string, const std::map<std::string, T>*>> select(
    const std::vector<std::pair<std::string, Document>>& documents, Select member) {
  std::vector<std::pair<std::string, const std::map<std::string, T>*>> out;
  for (const auto& [file, document] : documents) out.emplace_back(file, &member(document));
  return out;
}

}  // namespace

std::string FileError::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  return out + ": " + message;
}

std::optional<Format> format_of(const std::filesystem::path& path) {
  const auto extension = path.extension();
  if (extension == ".yml" || extension == ".yaml") return Format::yaml;
  if (extension == ".toml") return Format::toml;
  return std::nullopt;
}

std::variant<Document, FileError> parse_document(std::string_view text, Format format,
                                                 std::string_view file) {
  if (const auto at = find_template(text)) {
    return FileError{std::string{file}, at->line, at->column,
                     "Go templates (\"{{\") are not supported; write the configuration out"};
  }
  Locations locations;
  auto json = format == Format::yaml ? yaml_to_json(text, file, locations)
                                     : toml_to_json(text, file, locations);
  if (auto* error = std::get_if<FileError>(&json)) return std::move(*error);
  return decode(std::get<nlohmann::json>(json), locations, file);
}

std::variant<Document, FileError> read_document(const std::filesystem::path& path) {
  const auto format = format_of(path);
  if (!format) {
    return FileError{path.string(), 0, 0,
                     "unsupported file extension (expected .yml, .yaml or .toml)"};
  }
  std::ifstream stream{path, std::ios::binary};
  if (!stream) {
    return FileError{path.string(), 0, 0, "cannot read: " + std::generic_category().message(errno)};
  }
  const std::string text{std::istreambuf_iterator<char>{stream}, std::istreambuf_iterator<char>{}};
  if (stream.bad()) return FileError{path.string(), 0, 0, "cannot read: I/O error"};
  return parse_document(text, *format, path.string());
}

FileUpdate merge(const std::vector<std::pair<std::string, Document>>& documents) {
  FileUpdate update;
  for (const auto& [file, document] : documents) {
    update.files.push_back(file);
    update.diagnostics.insert(update.diagnostics.end(), document.diagnostics.begin(),
                              document.diagnostics.end());
    update.tls.certificates.insert(update.tls.certificates.end(), document.tls.certificates.begin(),
                                   document.tls.certificates.end());
  }
  auto& http = update.configuration.http;
  merge_named(
      select<config::Router>(
          documents, [](const Document& d) -> const auto& { return d.configuration.http.routers; }),
      http.routers, update.diagnostics, config::ResourceKind::router, "router");
  merge_named(select<config::Service>(
                  documents,
                  [](const Document& d) -> const auto& { return d.configuration.http.services; }),
              http.services, update.diagnostics, config::ResourceKind::service, "service");
  merge_named(select<config::Middleware>(
                  documents, [](const Document& d) -> const auto& {
                    return d.configuration.http.middlewares;
                  }),
              http.middlewares, update.diagnostics, config::ResourceKind::middleware, "middleware");
  merge_named(select<config::TlsOptions>(
                  documents, [](const Document& d) -> const auto& { return d.tls.options; }),
              update.tls.options, update.diagnostics, config::ResourceKind::provider,
              "tls.options");
  merge_named(select<config::TlsStore>(
                  documents, [](const Document& d) -> const auto& { return d.tls.stores; }),
              update.tls.stores, update.diagnostics, config::ResourceKind::provider, "tls.stores");
  return update;
}

std::optional<std::string> validate(const config::FileProvider& source) {
  if (source.filename.empty() && source.directory.empty()) {
    return "the file provider needs providers.file.filename or providers.file.directory";
  }
  if (!source.filename.empty() && !source.directory.empty()) {
    return "providers.file.filename and providers.file.directory cannot both be set";
  }
  return std::nullopt;
}

std::variant<std::vector<std::filesystem::path>, FileError> list_files(
    const config::FileProvider& source) {
  if (!source.filename.empty()) return std::vector<std::filesystem::path>{source.filename};
  std::error_code error;
  std::filesystem::directory_iterator entries{source.directory, error};
  if (error) return FileError{source.directory, 0, 0, "cannot read directory: " + error.message()};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : entries) {
    const auto& path = entry.path();
    const auto name = path.filename().string();
    if (name.empty() || name.front() == '.' || !format_of(path)) continue;
    // Following symbolic links, as Kubernetes ConfigMap volumes consist of them.
    std::error_code status_error;
    if (!std::filesystem::is_regular_file(path, status_error)) continue;
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::variant<FileUpdate, FileError> load(const config::FileProvider& source) {
  auto files = list_files(source);
  if (auto* error = std::get_if<FileError>(&files)) return std::move(*error);
  std::vector<std::pair<std::string, Document>> documents;
  for (const auto& path : std::get<std::vector<std::filesystem::path>>(files)) {
    auto document = read_document(path);
    if (auto* error = std::get_if<FileError>(&document)) return std::move(*error);
    documents.emplace_back(path.string(), std::get<Document>(std::move(document)));
  }
  return merge(documents);
}

}  // namespace berth::file
