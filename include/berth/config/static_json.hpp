#pragma once
// The static configuration as JSON, e.g. to log the effective configuration at start-up or to
// serve /api/entrypoints. Written from the same flag table as parsing, so every flag appears.

#include <nlohmann/json.hpp>

#include "berth/config/static.hpp"

namespace berth::config {

/// Every flag's value under its path ({"entryPoints":{"web":{"address":":80",...}},...}); sections
/// that are off are left out, durations are Go duration strings.
nlohmann::json to_json(const StaticConfiguration& configuration);

}  // namespace berth::config
