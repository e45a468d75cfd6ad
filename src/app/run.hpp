#pragma once

#include "berth/config/static.hpp"

namespace berth::app {

/// Runs berth with a parsed, effective and validated configuration; returns the exit status.
int run(const config::StaticConfiguration& configuration);

}  // namespace berth::app
