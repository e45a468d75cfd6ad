#include "run.hpp"

#include <cstdio>

namespace berth::app {

int run(const config::StaticConfiguration&) {
  // The providers, builder and proxy are wired here by the lead; until then berth cannot serve.
  std::fputs("berth: no runtime wired yet\n", stderr);
  return 1;
}

}  // namespace berth::app
