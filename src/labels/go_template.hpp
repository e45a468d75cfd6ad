#pragma once
// The small part of Go's text/template that Traefik's defaultRule needs:
//   {{ normalize .Name }}  {{ .Name }}  {{ .ContainerName }}  {{ index .Labels "k" }}  {{ .Labels.k
//   }}
// plus pipelines (`{{ .Name | normalize }}`), parentheses, "strings"/`raw strings`, `{{-`/`-}}`
// trimming, comments, and the sprig functions lower, upper, trim, trimPrefix, trimSuffix, replace
// and default. Anything else (if, range, variables, other functions) is reported, never guessed.

#include <map>
#include <string>
#include <string_view>
#include <variant>

namespace berth::labels {

/// Traefik's provider.Normalize: runs of characters that are neither letters nor digits become one
/// '-', and leading/trailing ones are dropped. Bytes >= 0x80 (UTF-8 letters) count as letters.
std::string normalize(std::string_view name);

struct TemplateModel {
  std::string name;            ///< the service name (`service_project` for compose)
  std::string container_name;  ///< without the leading '/'
  const std::map<std::string, std::string>* labels = nullptr;
};

struct TemplateError {
  std::string message;
};

std::variant<std::string, TemplateError> execute_template(std::string_view text,
                                                          const TemplateModel& model);

}  // namespace berth::labels
