#pragma once
// Real workloads from files (issue 13): the options of the `dataset` prompt kind (file formats,
// multi-turn replay, answer lengths) and of the `trace` prompt kind (Mooncake-style JSONL traces
// replayed on their own clock by the `trace` executor). Plain data, part of RequestSpec / Phase
// (scenario.hpp); read by load_requests.cpp / load_phases.cpp, used by engine/dataset.hpp and
// engine/trace.hpp. Schema: scenarios/README.md.
#include <cstddef>
#include <string>

namespace llmd::scenario {

// `dataset` prompts.
struct DatasetSpec {
  enum class Format {
    automatic,  // no `format` key: by content, a file whose first non-blank byte is '[' is sharegpt, else jsonl
    jsonl,      // one JSON object per line: {"prompt"}, {"messages"} (OpenAI chat) or {"conversations"} (ShareGPT)
    sharegpt,   // one JSON array of {"conversations": [{"from": "human"|"gpt"|"system", "value": "..."}]}
  };
  enum class Replay {
    first_turn,  // default: a conversation is one request, its first user turn (vLLM's sharegpt benchmark);
                 // a {"messages"} line is sent as it is
    multi_turn,  // chat API: a conversation is replayed turn by turn by one virtual user, each request
                 // resending the history with the dataset's own assistant turns
  };
  Format format = Format::automatic;
  Replay replay = Replay::first_turn;
  // `output_tokens: dataset`: max_tokens of each request is the length of the dataset's answer to
  // it, counted in whitespace-separated words (the simulator's tokens for words of <= 8 bytes);
  // false: requests.max_tokens.
  bool output_tokens_from_dataset = false;
};

// `trace` prompts: JSONL records {"timestamp": ms, "input_length": N, "output_length": N,
// "hash_ids": [...]}; the file path is RequestSpec::dataset_path.
struct TraceSpec {
  // Tokens per hash id block: requests that share a hash id share that block's text, exactly this
  // many simulator tokens. 16 = vLLM's and the simulator's default block size; the Mooncake traces
  // (and AIPerf / SGLang replaying them) use 512.
  std::size_t block_size = 16;
};

}  // namespace llmd::scenario
