#pragma once
// RE2 with Go's regexp semantics where middlewares need them: ReplaceAllString and Expand's `$1`,
// `${1}`, `$name`, `${name}`, `$$` templates.

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace berth::middleware {

/// Compiles `pattern`; the error names the pattern and RE2's reason.
std::variant<std::shared_ptr<const re2::RE2>, std::string> compile_regex(
    const std::string& pattern);

/// Go's Regexp.ReplaceAllString: every non-overlapping match replaced by the expanded template.
std::string replace_all(const re2::RE2& re, std::string_view input, std::string_view replacement);

/// Go's Regexp.FindStringSubmatchIndex for the leftmost match: the groups' views (empty optional
/// for groups that did not take part), or an empty vector when nothing matches.
std::vector<std::optional<std::string_view>> find_submatch(const re2::RE2& re,
                                                           std::string_view input);

}  // namespace berth::middleware
