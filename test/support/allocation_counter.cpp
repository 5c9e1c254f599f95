#include "support/allocation_counter.hpp"

#include <cstdlib>
#include <new>

namespace {
thread_local bool t_counting = false;
thread_local std::size_t t_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  if (t_counting) {
    ++t_allocations;
  }
  if (void* block = std::malloc(size == 0 ? 1 : size)) {
    return block;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* block) noexcept { std::free(block); }
void operator delete[](void* block) noexcept { std::free(block); }
void operator delete(void* block, std::size_t) noexcept { std::free(block); }
void operator delete[](void* block, std::size_t) noexcept { std::free(block); }

namespace llmd::test {

CountAllocations::CountAllocations() {
  t_allocations = 0;
  t_counting = true;
}

CountAllocations::~CountAllocations() { t_counting = false; }

std::size_t CountAllocations::count() const { return t_allocations; }

}  // namespace llmd::test
