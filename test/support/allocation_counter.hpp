#pragma once
// Counts calls to the global operator new. Linking this library replaces operator new/delete for
// the whole executable, so only allocation tests link it (in executables of their own, kept out of
// the sanitizer run, whose allocator must not be mixed with these).

#include <cstddef>
#include <functional>

namespace berth::test {

/// Runs `work` and returns how many allocations any thread made meanwhile.
std::size_t count_allocations(const std::function<void()>& work);

}  // namespace berth::test
