#pragma once
// The bounds of what a scenario file (or a `llmd-bench run` flag replacing one of its values) may
// give, in one place: the loader checks them with file:line:column errors, the CLI overrides with
// the flag's name, and scenarios/README.md documents each next to its key. Each bound is sized
// from what llmd-bench allocates or can schedule for it, so a value past it fails at load time
// (exit 2) instead of aborting with std::bad_alloc or overflowing a clock mid-run.
#include <cstddef>

namespace llmd::scenario::limits {

// A scenario file is read up to this many bytes (4 MiB); devices and FIFOs too, so
// `run /dev/zero` stops there. yaml-cpp keeps ~600 bytes per node: the densest 4 MiB document (a
// flow list `[1,1,...]`, 2 bytes a node) takes 1.2 GB and ~4 s to parse; 16 MiB took 4.9 GB. Real
// scenarios are a few KiB; 4 MiB still holds 200,000 headers or a 600,000-token `fixed` prompt.
inline constexpr std::size_t k_max_file_bytes = std::size_t{4} << 20;

}  // namespace llmd::scenario::limits
