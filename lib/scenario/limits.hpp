#pragma once
// The bounds of what a scenario file (or a `llmd-bench run` flag replacing one of its values) may
// give, in one place: the loader checks them with file:line:column errors, the CLI overrides with
// the flag's name, and scenarios/README.md documents each next to its key. Each bound is sized
// from what llmd-bench allocates or can schedule for it, so a value past it fails at load time
// (exit 2) instead of aborting with std::bad_alloc or overflowing a clock mid-run.
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace llmd::scenario::limits {

// A scenario file is read up to this many bytes (4 MiB); devices and FIFOs too, so
// `run /dev/zero` stops there. yaml-cpp keeps ~600 bytes per node: the densest 4 MiB document (a
// flow list `[1,1,...]`, 2 bytes a node) took 1.2 GB and 5 s to parse; 16 MiB took 4.9 GB. Real
// scenarios are a few KiB; 4 MiB still holds 200,000 headers or a 600,000-token `fixed` prompt.
inline constexpr std::size_t k_max_file_bytes = std::size_t{4} << 20;

// A `dataset` prompt file is read whole when the run starts and kept as prompts (about twice its
// size while it is split into lines), up to this many bytes (256 MiB); devices and FIFOs too, so a
// dataset path of /dev/zero stops there instead of growing one line until std::bad_alloc.
inline constexpr std::size_t k_max_dataset_bytes = std::size_t{256} << 20;

// A ShareGPT JSON dataset is one document: parsing it builds a DOM of about 50 bytes a value (plus
// the strings), so it is refused past this many values (16 million: ~1 GB with the text). The
// densest 256 MiB file ("[1,1,...]") would hold 134 million; ShareGPT's own dumps average ~60
// bytes a value (~4.5 million in 256 MiB).
inline constexpr std::size_t k_max_dataset_json_values = 16'000'000;

// `trace` prompts: records in a trace file (each holds its lengths and hash ids; the Mooncake
// traces have 12,000-24,000). A record's hash ids are bounded by its input_length (k_max_tokens).
inline constexpr std::size_t k_max_trace_records = 1'000'000;
// `block_size` of a trace: tokens per hash id block, as the simulator's KV block bound
// (sim_config.hpp); Mooncake traces use 512.
inline constexpr std::uint64_t k_max_trace_block_size = 4096;
// `speedup` of a trace phase: at 1e6 a 30-day trace replays in 2.6 s; at 1e-6 a 1 ms gap becomes
// 16 minutes. Multiplied with time_scale, the replay must still end within k_max_duration.
inline constexpr double k_min_speedup = 1e-6;
inline constexpr double k_max_speedup = 1e6;

// Requests in flight at once: `vus`, `start_vus`, stage `target`, open-loop `max_in_flight`, and the
// sum over phases that run at the same time. Each in-flight request holds a libcurl handle with its
// buffers and a connection: one descriptor, three more through the embedded simulator. Measured:
// 4,000 VUs against the embedded simulator took 133 MB in all, ~30 KiB a request; 100,000 take
// ~3 GiB and 400,000 descriptors, within the 1,048,576 llmd-bench raises its limit to where the
// system allows it. A single client process driving more would be measuring itself.
inline constexpr std::uint64_t k_max_concurrency = 100'000;
// engine.threads / --threads: event loops of one run.
inline constexpr std::uint64_t k_max_threads = 256;
// engine.coalesce / --coalesce: the longest pause a fixed window may ask for, and the cap of `auto`
// (a tenth of the median inter-token gap). The loop wakes every 5 ms for its lag probe anyway
// (engine.hpp k_loop_probe_interval), so no pause is ever longer than that.
inline constexpr std::chrono::nanoseconds k_max_coalesce = std::chrono::milliseconds(5);

// `iterations`: a counter, no memory; a billion requests is 3 hours at k_max_rate_per_s.
inline constexpr std::uint64_t k_max_iterations = 1'000'000'000;

// Token counts: prefix_tokens, suffix_tokens, the random prompt length and its clamps, max_tokens.
// 1,048,576 (1M) tokens is the largest context window vLLM serves in practice; a generated prompt
// of 1M tokens is ~6 MiB of text.
inline constexpr std::uint64_t k_max_tokens = std::uint64_t{1} << 20;

// `turns` of a multi-turn conversation. Each turn number reached gets its own TTFT histogram in every
// phase's result (36 KiB), so 1,000 turns cost at most 36 MiB a phase; the history a conversation
// resends (system prompt + turns x (user + output tokens)) is bounded by k_max_tokens as a whole.
inline constexpr std::uint64_t k_max_turns = 1000;

// Prompt text llmd-bench holds at once: the body of every request in flight (kept until it ends)
// and, for per-session prompts, one prefix per virtual user (kept for the run). A generated token
// is one word of at most 8 bytes plus a space. At most 1 GiB; the embedded simulator keeps about
// three more copies (its body, the text, 4-byte token ids), so ~4 GiB with it, a sixth of the 24 GiB
// machines llmd-bench is tested on. Measured with the embedded simulator: 100 requests of 100,000
// tokens in flight took 174 MB in all (17 bytes a token).
inline constexpr std::uint64_t k_max_bytes_per_token = 9;
inline constexpr std::uint64_t k_max_prompt_bytes_in_flight = std::uint64_t{1} << 30;

// `prefix-groups` prompts: `groups` system prompts (each built on first use and kept for the run,
// so groups x the longest system prompt counts against k_max_prompt_bytes_in_flight) and
// `prompts_per_group` questions per group (nothing kept per question: a pass of groups x
// prompts_per_group requests is at most 1e11 requests, past k_max_iterations).
inline constexpr std::uint64_t k_max_prefix_groups = 100'000;
inline constexpr std::uint64_t k_max_prompts_per_group = 1'000'000;

// `gamma` arrivals' `burstiness` (the gamma shape; 1 = Poisson): the coefficient of variation of
// the gaps is 1/sqrt(burstiness), so 0.01..1000 spans gaps 10x as variable as Poisson arrivals down
// to nearly a constant rate (CV 0.03). Below 0.01 nearly every gap is 0 and the load one burst.
inline constexpr double k_min_burstiness = 0.01;
inline constexpr double k_max_burstiness = 1000;

// Open-loop arrival rate, requests per second. At 100,000/s requests are due every 10 us, about
// what starting one costs in llmd-bench's single event-loop thread (a libcurl handle, the body, a
// connection): faster arrivals could only be late or dropped. Run several llmd-bench processes
// for more. At 1e-6/s (one request in 11.6 days) every gap still fits the clock.
inline constexpr double k_min_rate_per_s = 1e-6;
inline constexpr double k_max_rate_per_s = 100'000;

// Every duration key (phase durations, stage durations, start_time, graceful_stop, max_duration,
// timeouts, scrape intervals) and the end of every phase after `time_scale` (start_time + its
// length + graceful_stop): 30 days (720h), longer than any soak test and far inside the clock.
inline constexpr std::chrono::nanoseconds k_max_duration = std::chrono::hours(720);
// cache.interval / --cache-interval: every pod is scraped this often at most (before time_scale).
inline constexpr std::chrono::nanoseconds k_min_cache_interval = std::chrono::milliseconds(100);

// `time_scale`: 1e-6 turns 1 s into 1 us; 1e6 turns 1 s into 11.6 days. Scaled phases must still
// end within k_max_duration.
inline constexpr double k_min_time_scale = 1e-6;
inline constexpr double k_max_time_scale = 1e6;

// Phases in `load` and stages of a ramping-vus phase: with k_max_duration each, their sums stay
// far inside the 64-bit nanosecond clock (1,000 x 720h is 2.6e18 ns of the 9.2e18 it holds).
inline constexpr std::size_t k_max_phases = 1000;
inline constexpr std::size_t k_max_stages = 1000;

// `temperature`: vLLM accepts any value >= 0; beyond 100 sampling is uniform noise, so a larger one
// is a typo.
inline constexpr double k_max_temperature = 100;

// cache: `max_parallel_scrapes` (threads and kubectl processes at once) and `allow_missing_pods`
// (a count of pods; no cluster runs a million vLLM pods).
inline constexpr std::uint64_t k_max_parallel_scrapes = 1024;
inline constexpr std::uint64_t k_max_allow_missing_pods = 1'000'000;

}  // namespace llmd::scenario::limits
