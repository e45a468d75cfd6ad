#pragma once
// Traefik's dynamic-configuration files (the file provider): one YAML or TOML document holding
// `http:` (routers, services, middlewares) and `tls:` (certificates, options, stores), decoded with
// config/json.hpp's generic decoder; several files merged into one provider output.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "berth/config/diagnostic.hpp"
#include "berth/config/dynamic.hpp"
#include "berth/config/static.hpp"
#include "berth/config/tls.hpp"

namespace berth::file {

enum class Format { yaml, toml };

/// By extension, as Traefik reads a directory: .yml and .yaml are YAML, .toml is TOML.
std::optional<Format> format_of(const std::filesystem::path& path);

/// Why a file could not be used. Line and column are 1-based; 0 when the error has no position.
struct FileError {
  std::string file;
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;
  /// "file:line:column: message" (the position left out when unknown).
  std::string to_string() const;
  friend bool operator==(const FileError&, const FileError&) = default;
};

/// What one file holds (names unqualified).
struct Document {
  config::Configuration configuration;
  config::TlsConfiguration tls;
  config::Diagnostics diagnostics;  ///< notes, e.g. the `tcp:` and `udp:` sections being ignored
  friend bool operator==(const Document&, const Document&) = default;
};

/// Parses one document. `file` names it in errors and diagnostics. Never throws.
std::variant<Document, FileError> parse_document(std::string_view text, Format format,
                                                 std::string_view file);

/// Reads and parses one file, its format chosen by extension.
std::variant<Document, FileError> read_document(const std::filesystem::path& path);

/// One output of the file provider.
struct FileUpdate {
  config::Configuration configuration;  ///< names unqualified; the caller qualifies as name@file
  config::TlsConfiguration tls;
  config::Diagnostics diagnostics;
  std::vector<std::string> files;  ///< the files the configuration was read from, in merge order
  friend bool operator==(const FileUpdate&, const FileUpdate&) = default;
};

/// Merges the documents of several files, in order. A router, service, middleware, TLS option or
/// TLS store defined in more than one file is a conflict: it is left out, with an error diagnostic
/// naming every file that defines it.
FileUpdate merge(const std::vector<std::pair<std::string, Document>>& documents);

/// Nullopt when `source` names exactly one of filename and directory, else why not.
std::optional<std::string> validate(const config::FileProvider& source);

/// The files `source` designates: its filename, or the *.yml, *.yaml and *.toml files of its
/// directory (not recursive; hidden files such as editors' swap files skipped), sorted by name.
std::variant<std::vector<std::filesystem::path>, FileError> list_files(
    const config::FileProvider& source);

/// Lists, reads and merges every file of `source`; the first file that fails is the error.
std::variant<FileUpdate, FileError> load(const config::FileProvider& source);

}  // namespace berth::file
