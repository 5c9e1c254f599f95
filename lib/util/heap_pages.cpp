#include "util/heap_pages.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

#include "util/atomic_file.hpp"

namespace llmd::util {

namespace {

// The [heap] mapping of /proc/self/maps (malloc's brk heap), or {0, 0}.
std::pair<std::uintptr_t, std::uintptr_t> heap_mapping() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.ends_with("[heap]")) {
      std::istringstream in(line);
      std::uintptr_t low = 0;
      std::uintptr_t high = 0;
      char dash = 0;
      in >> std::hex >> low >> dash >> high;
      return {low, high};
    }
  }
  return {0, 0};
}

}  // namespace

std::string transparent_huge_page_mode() {
  const std::string text = read_file("/sys/kernel/mm/transparent_hugepage/enabled").value_or("");
  const auto open = text.find('[');
  const auto close = text.find(']', open);
  return open == std::string::npos || close == std::string::npos ? "" : text.substr(open + 1, close - open - 1);
}

HeapPages advise_heap_huge_pages() {
  if (const char* tunables = std::getenv("GLIBC_TUNABLES");
      tunables != nullptr && std::string_view(tunables).find("glibc.malloc.hugetlb") != std::string_view::npos) {
    return {.reason = "GLIBC_TUNABLES sets glibc.malloc.hugetlb: glibc advises the heap itself"};
  }
  if (const char* opt = std::getenv("LLMD_BENCH_HUGE_PAGES"); opt != nullptr && std::string_view(opt) == "0") {
    return {.reason = "LLMD_BENCH_HUGE_PAGES=0"};
  }
  if (const auto mode = transparent_huge_page_mode(); mode != "madvise") {
    return {.reason = mode.empty() ? "the kernel has no transparent huge pages"
                                   : "the kernel's transparent huge page mode is " + mode + ", not madvise"};
  }
  if (::mallopt(M_MMAP_THRESHOLD, 32 << 20) != 1 || ::mallopt(M_TOP_PAD, static_cast<int>(k_heap_pad)) != 1) {
    return {.reason = "malloc does not take M_MMAP_THRESHOLD / M_TOP_PAD (not glibc's)"};
  }
  // Grow the heap once: allocate until brk moves (the top chunk's free space runs out; with the pad set,
  // malloc then asks the kernel for k_heap_pad more), and give the blocks back.
  const void* const before = ::sbrk(0);
  std::vector<void*> blocks;
  while (::sbrk(0) == before && blocks.size() < 64) {
    blocks.push_back(std::malloc(64 << 10));
  }
  for (void* block : blocks) {
    std::free(block);
  }
  const auto [low, high] = heap_mapping();
  if (high <= low) {
    return {.reason = "no brk heap (malloc is not glibc's, or runs under a sanitizer)"};
  }
  if (::madvise(reinterpret_cast<void*>(low), high - low, MADV_HUGEPAGE) != 0) {
    return {.reason = "madvise(MADV_HUGEPAGE) was refused"};
  }
  return {.advised = true, .bytes = high - low, .reason = ""};
}

}  // namespace llmd::util
