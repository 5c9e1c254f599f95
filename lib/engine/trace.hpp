#pragma once
// `trace` prompts (scenario/trace_spec.hpp): a JSONL trace in the format of the Mooncake traces
// (kvcache-ai/Mooncake, FAST'25), which AIPerf (`--custom-dataset-type mooncake_trace`) and SGLang
// (`bench_serving --dataset-name mooncake`) replay:
//   {"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48]}
// timestamp: arrival in ms since the trace start (records sorted by it, equal ones allowed);
// input_length / output_length: prompt and answer tokens; hash_ids (optional): one id per block of
// block_size prompt tokens, from the start; two requests that list the same id at the same place
// share that block's tokens (as those tools generate them; Mooncake's block size is 512). Other
// keys are ignored.
//
// Prompt text, exact for the simulator's tokenizer (one token per word of <= 8 bytes,
// sim/tokenizer.hpp): the block of hash id H is `block_size` words picked by mix64(tag, H, i) from
// prompt_words.hpp: a function of H alone, so blocks shared by any two requests (of any trace, any
// run) are byte-identical. A prompt is its hash_ids' blocks in order, joined by single spaces,
// then words unique to the record up to input_length (the first four spell the record index in
// base 256); when input_length ends inside the last listed block (Mooncake: hash_ids has
// ceil(input_length / block_size) ids), that block is cut there. Against the simulator with the same
// block size (and the completions API: the chat template adds tokens in front) cache hits follow
// the trace's shared blocks exactly; against a real tokenizer the text is about one token a word.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace llmd::engine {

struct TraceRecord {
  std::chrono::nanoseconds timestamp{};  // since the trace start (the file's ms)
  std::size_t input_length = 0;          // prompt tokens, >= 1
  std::size_t output_length = 0;         // max_tokens of the request, >= 1
  std::vector<std::uint64_t> hash_ids;   // block ids from the prompt's start
};

struct Trace {
  std::vector<TraceRecord> records;  // file order = timestamp order
  std::size_t block_size = 16;       // tokens per hash id block
};

// Reads and checks a trace; errors name the file and the 1-based line, and say what to do:
//   "t.jsonl:3: \"input_length\" must be an integer 1..1048576, got: \"12\""
//   "t.jsonl:4: timestamp 100 ms is before the previous record's 250 ms: sort the trace by timestamp"
//   "t.jsonl:5: 14 hash_ids of block_size 16 tokens need input_length > 208, got 6755: set the prompt's
//    block_size to the trace's (Mooncake traces: 512)"
util::Result<Trace> load_trace(const std::string& path, std::size_t block_size);

// Appends (space-separated from what `out` holds) the first `tokens` words of hash id `hash_id`'s block.
void append_block_text(std::uint64_t hash_id, std::size_t tokens, std::string& out);

// The prompt of `record` (index `record_index` in its trace) into `out` (replaced): see above.
void build_trace_prompt(const TraceRecord& record, std::uint64_t record_index, std::size_t block_size, std::string& out);

// What validate's plan and the docs show of a trace.
struct TraceSummary {
  std::size_t records = 0;
  std::chrono::nanoseconds span{};     // last timestamp (the first is the origin, usually 0)
  std::uint64_t input_tokens = 0;      // sum of input_length
  std::uint64_t output_tokens = 0;     // sum of output_length
  std::uint64_t blocks = 0;            // hash ids listed, over every record
  std::uint64_t distinct_blocks = 0;   // different hash ids
};
TraceSummary summarize(const Trace& trace);

}  // namespace llmd::engine
