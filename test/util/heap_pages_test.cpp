#include "util/heap_pages.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

// Each test is its own process under ctest (gtest_discover_tests), so each sees a fresh heap.
namespace llmd::util {
namespace {

using testing::HasSubstr;

bool sanitized() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#else
  return false;
#endif
}

// The [heap] mapping's fields in /proc/self/smaps ("VmFlags" -> "rd wr mr ... hg", "AnonHugePages" -> "2048 kB").
std::map<std::string, std::string> heap_smaps() {
  std::ifstream smaps("/proc/self/smaps");
  std::map<std::string, std::string> fields;
  std::string line;
  bool in_heap = false;
  while (std::getline(smaps, line)) {
    const auto colon = line.find(':');
    const bool header = colon == std::string::npos || line.find(' ') < colon;  // "5600-5700 rw-p ... [heap]"
    if (header) {
      if (in_heap) {
        break;
      }
      in_heap = line.ends_with("[heap]");
    } else if (in_heap) {
      const auto value = line.find_first_not_of(' ', colon + 1);
      fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
    }
  }
  return fields;
}

int heap_flag_count(const std::string& flag) {
  std::istringstream flags(heap_smaps()["VmFlags"]);
  int count = 0;
  for (std::string word; flags >> word;) {
    count += word == flag ? 1 : 0;
  }
  return count;
}

TEST(HeapPages, TheHeapIsAdvisedAndFilledWithHugePagesWhereTheKernelLeavesThemToMadvise) {
  ::unsetenv("GLIBC_TUNABLES");
  ::unsetenv("LLMD_BENCH_HUGE_PAGES");
  const auto result = advise_heap_huge_pages();
  if (sanitized()) {  // the sanitizer's allocator has no brk heap and ignores mallopt
    EXPECT_FALSE(result.advised);
    EXPECT_FALSE(result.reason.empty());
    return;
  }
  const std::string mode = transparent_huge_page_mode();
  if (std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {  // a misread mode fails, not skips
    EXPECT_THAT(mode, testing::AnyOf("always", "madvise", "never"));
  }
  if (mode != "madvise") {
    EXPECT_FALSE(result.advised);
    EXPECT_THAT(result.reason, HasSubstr("transparent huge page"));
    GTEST_SKIP() << "this kernel's THP mode is '" << mode << "': " << result.reason;
  }
  ASSERT_TRUE(result.advised) << result.reason;
  EXPECT_GE(result.bytes, k_heap_pad);
  EXPECT_EQ(heap_flag_count("hg"), 1) << heap_smaps()["VmFlags"];
  // 16 MiB of small blocks, touched: they land on the advised heap, in huge pages.
  std::vector<char*> blocks;
  for (int i = 0; i < 256; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(64 << 10)));
    for (int at = 0; at < (64 << 10); at += 4096) {
      blocks.back()[at] = 1;
    }
  }
  const auto huge = heap_smaps()["AnonHugePages"];
  EXPECT_GT(std::atol(huge.c_str()), 0) << "AnonHugePages " << huge;
  for (char* block : blocks) {
    std::free(block);
  }
}

TEST(HeapPages, AnOptOutOrGlibcsOwnTunableLeavesTheHeapAlone) {
  ::setenv("LLMD_BENCH_HUGE_PAGES", "0", 1);
  auto result = advise_heap_huge_pages();
  EXPECT_FALSE(result.advised);
  EXPECT_EQ(result.reason, "LLMD_BENCH_HUGE_PAGES=0");
  ::unsetenv("LLMD_BENCH_HUGE_PAGES");
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.check=0:glibc.malloc.hugetlb=1", 1);
  result = advise_heap_huge_pages();
  EXPECT_FALSE(result.advised);
  EXPECT_THAT(result.reason, HasSubstr("GLIBC_TUNABLES sets glibc.malloc.hugetlb"));
  ::unsetenv("GLIBC_TUNABLES");
  EXPECT_EQ(heap_flag_count("hg"), 0) << heap_smaps()["VmFlags"];
}

}  // namespace
}  // namespace llmd::util
