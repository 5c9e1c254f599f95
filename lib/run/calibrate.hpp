#pragma once
// The calibrate stage (requests.token_counts, issue 13): make every generated prefix exactly N tokens
// of the SERVER's tokenizer, asked through its vLLM `POST /tokenize` (through the target, with the
// run's Host / auth / TLS settings): {"model", "prompt": text, "add_special_tokens": false}.
//
// For each distinct prefix (shared_prefix: one; per_session: one per session of the largest phase)
// the search takes the words of the generator's own stream (PromptSource::generated_prefix): the
// most words whose server count is <= N (binary search on the word count), then one-token filler
// words (PromptSource::k_filler_word) for the tokens a word boundary jumped past, checked again.
// With align_to_block N is first rounded UP to a multiple of the block size (resolve_block_size).
// The result goes into RequestSpec::calibrated (plain data): the engine, prime / verify and the
// ideal hit rate then generate the calibrated prefixes, deterministically.
//
// With the chat API the prefix is counted as plain text the same way (the chat template's tokens
// around the user message are not part of it), and the report says so.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::run {

struct RunState;  // stages.hpp
enum class Next;

// The server's token count of `text`; an error when it could not be asked.
using TokenCounter = std::function<util::Result<std::size_t>(const std::string& text)>;
// The prefix made of the first `words` words of its stream and `fillers` filler words.
using PrefixBuilder = std::function<std::string(std::size_t words, std::size_t fillers)>;

struct PrefixSearch {
  std::size_t words = 0;
  std::size_t fillers = 0;
  std::size_t tokens = 0;               // the server's count of the result (= the target)
  std::size_t uncalibrated_tokens = 0;  // the server's count of the generator's `target` words
  std::size_t calls = 0;                // token counts asked
};

// Finds words + fillers that the counter measures exactly `target` tokens. Fails when the counter
// fails or no such text exists (the error names the closest count).
util::Result<PrefixSearch> search_prefix(std::size_t target, const PrefixBuilder& build, const TokenCounter& count);

// `n` rounded up to a multiple of `block` (block 0: n).
std::size_t align_up(std::size_t n, std::size_t block);

// The "count" of vLLM's TokenizeResponse body.
util::Result<std::size_t> parse_tokenize_count(std::string_view body);

// The "calibrate" stage: report.calibration, scenario.request.calibrated.
Next calibrate_prefixes(RunState& state);

}  // namespace llmd::run
