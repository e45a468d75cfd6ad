#include "berth/middleware/message.hpp"

#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BERTH_ASAN 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define BERTH_ASAN 1
#endif
#ifdef BERTH_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace berth::middleware {

BlockPool::BlockPool(std::size_t block_size, std::size_t max_kept)
    : block_size_(block_size), max_kept_(max_kept) {
  kept_.reserve(max_kept_);
}

BlockPool::~BlockPool() {
  for (void* block : kept_) {
#ifdef BERTH_ASAN
    ASAN_UNPOISON_MEMORY_REGION(block, block_size_);
#endif
    ::operator delete(block);
  }
}

void* BlockPool::take() {
  if (kept_.empty()) return ::operator new(block_size_);
  void* block = kept_.back();
  kept_.pop_back();
#ifdef BERTH_ASAN
  ASAN_UNPOISON_MEMORY_REGION(block, block_size_);
#endif
  return block;
}

void BlockPool::give(void* block) noexcept {
  // Within the capacity reserved at construction, so the push cannot throw.
  if (kept_.size() < max_kept_) {
#ifdef BERTH_ASAN
    // A view into fields of an exchange that ended then fails under the sanitizer.
    ASAN_POISON_MEMORY_REGION(block, block_size_);
#endif
    kept_.push_back(block);
  } else {
    ::operator delete(block);
  }
}

void* FieldArena::allocate_in_new_block(std::size_t size, std::size_t align) {
  constexpr std::size_t header = sizeof(Block);
  const std::size_t needed = header + align + size;
  const bool pooled = needed <= pool_->block_size();
  void* memory = pooled ? pool_->take() : ::operator new(needed);
  auto* block = static_cast<Block*>(memory);
  block->next = blocks_;
  block->size = pooled ? pool_->block_size() : needed;
  blocks_ = block;
  char* const start = static_cast<char*>(memory) + header;
  char* const end = static_cast<char*>(memory) + block->size;
  auto at = reinterpret_cast<std::uintptr_t>(start);
  at = (at + align - 1) & ~(align - 1);
  // A block of its own for a large allocation leaves the current block in use for the next ones.
  if (pooled || next_ == nullptr) {
    next_ = reinterpret_cast<char*>(at + size);
    end_ = end;
  }
  return reinterpret_cast<void*>(at);
}

void FieldArena::reset() noexcept {
  while (blocks_ != nullptr) {
    Block* next = blocks_->next;
    if (blocks_->size == pool_->block_size()) {
      pool_->give(blocks_);
    } else {
      ::operator delete(blocks_);
    }
    blocks_ = next;
  }
  next_ = nullptr;
  end_ = nullptr;
}

}  // namespace berth::middleware
