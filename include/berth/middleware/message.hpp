#pragma once
// The message heads the proxy parses and middlewares edit. Their fields come from a FieldArena the
// proxy empties after each exchange: Beast's field set allocates once per field and once for the
// target or reason, and malloc/free for those were a tenth of the proxy's instructions per request
// (docs/benchmarks.md). A default-constructed allocator uses the heap, so heads built elsewhere
// (tests, a middleware's own answers) need no arena; a copy of a head always goes to the heap, so
// only the head that was parsed into the arena lives and dies with it.

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace berth::middleware {

namespace http = boost::beast::http;

/// Blocks of one size kept for reuse by one thread (not thread-safe): the field arenas' blocks, and
/// the proxy's other per-connection memory of a fixed size. At most `max_kept` freed blocks are
/// kept; the others go back to the heap.
class BlockPool {
 public:
  BlockPool(std::size_t block_size, std::size_t max_kept);
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  void* take();
  void give(void* block) noexcept;
  std::size_t block_size() const noexcept { return block_size_; }
  std::size_t kept() const noexcept { return kept_.size(); }

 private:
  std::size_t block_size_;
  std::size_t max_kept_;
  std::vector<void*> kept_;
};

/// Bump allocation for the heads of one exchange: deallocating is free, reset() returns
/// everything at once. Holds no block while empty, so an idle connection costs nothing here.
class FieldArena {
 public:
  /// The size of the blocks a FieldArena's pool should have: a typical request and its response.
  static constexpr std::size_t block_size = 4096;

  explicit FieldArena(BlockPool& pool) noexcept : pool_(&pool) {}
  ~FieldArena() { reset(); }
  FieldArena(const FieldArena&) = delete;
  FieldArena& operator=(const FieldArena&) = delete;

  void* allocate(std::size_t size, std::size_t align) {
    auto at = reinterpret_cast<std::uintptr_t>(next_);
    at = (at + align - 1) & ~(align - 1);
    if (next_ != nullptr && at + size <= reinterpret_cast<std::uintptr_t>(end_)) {
      next_ = reinterpret_cast<char*>(at + size);
      return reinterpret_cast<void*>(at);
    }
    return allocate_in_new_block(size, align);
  }

  /// Frees every allocation; nothing allocated before may be used after.
  void reset() noexcept;

 private:
  /// Each block starts with this; one of another size than the pool's came from the heap.
  struct Block {
    Block* next;
    std::size_t size;
  };
  void* allocate_in_new_block(std::size_t size, std::size_t align);

  BlockPool* pool_;
  Block* blocks_ = nullptr;
  char* next_ = nullptr;
  char* end_ = nullptr;
};

/// An allocator on a FieldArena, or on the heap when it has none.
template <class T>
class ArenaAllocator {
 public:
  using value_type = T;

  ArenaAllocator() noexcept = default;
  explicit ArenaAllocator(FieldArena& arena) noexcept : arena_(&arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena()) {}

  T* allocate(std::size_t n) {
    if (arena_ == nullptr) return std::allocator<T>{}.allocate(n);
    return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (arena_ == nullptr) std::allocator<T>{}.deallocate(p, n);
  }
  /// A copy outlives the exchange it was taken from, so it is made on the heap.
  ArenaAllocator select_on_container_copy_construction() const noexcept { return {}; }

  FieldArena* arena() const noexcept { return arena_; }
  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena_ == other.arena();
  }

 private:
  FieldArena* arena_ = nullptr;
};

using Fields = http::basic_fields<ArenaAllocator<char>>;
using RequestHeader = http::request_header<Fields>;
using ResponseHeader = http::response_header<Fields>;
using StringResponse = http::response<http::string_body, Fields>;

}  // namespace berth::middleware
