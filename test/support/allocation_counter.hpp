#pragma once
// Test support: counts heap allocations (operator new) made on the CALLING thread while a
// CountAllocations is alive. Linking llmd_allocation_counter replaces the global operator new of
// that test binary only (no other test links it).
#include <cstddef>

namespace llmd::test {

class CountAllocations {
 public:
  CountAllocations();   // starts counting on this thread from zero
  ~CountAllocations();  // stops counting
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;

  // operator new calls on this thread since construction.
  std::size_t count() const;
};

}  // namespace llmd::test
