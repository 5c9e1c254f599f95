#pragma once
#include <cstddef>
#include <string>

namespace llmd::util {

// What advise_heap_huge_pages() did, and why not when it did nothing.
struct HeapPages {
  bool advised = false;
  std::size_t bytes = 0;  // the heap range advised
  std::string reason;     // when not advised: why (the kernel's setting, an opt-out, no brk heap)
};

// Puts malloc's main heap in transparent huge pages, as GLIBC_TUNABLES=glibc.malloc.hugetlb=1 would,
// from inside the process (a tunable is read only at process start). Each stream's state is touched for
// the first time during the run; on a VM whose page tables the hypervisor shadows a page fault costs
// ~8 us, and 1,000 streams took ~3,000 of them (README, "Page faults"). With the heap advised, a 2 MiB
// page is one fault.
//
// How: the heap is grown once by k_heap_pad (mallopt M_TOP_PAD, which also keeps that much above the
// used part when malloc trims), blocks under 32 MiB are kept on it (M_MMAP_THRESHOLD: the largest
// threshold glibc's own adaptive rule would reach), and the heap's mapping is madvise(MADV_HUGEPAGE)d.
// Growth past the pad is not advised (the kernel does not merge the new brk range into an advised one),
// nor are --threads N's per-thread arenas; glibc's tunable covers both, so where it is set this does
// nothing. Acts only where the kernel's THP mode is "madvise" ("always" needs nothing, "never" allows
// nothing), and not when LLMD_BENCH_HUGE_PAGES=0. Call once, at process start, before threads start.
HeapPages advise_heap_huge_pages();

// The kernel's THP mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled
// ("always [madvise] never"), or "" where the file is missing (no THP in this kernel).
std::string transparent_huge_page_mode();

inline constexpr std::size_t k_heap_pad = std::size_t{64} << 20;

}  // namespace llmd::util
