#include "run/calibrate.hpp"

#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/preflight.hpp"
#include "engine/prompt_source.hpp"
#include "run/cache_state.hpp"
#include "run/stages.hpp"
#include "util/json_text.hpp"

namespace llmd::run {

namespace {

constexpr std::string_view k_tokenize_path = "/tokenize";
constexpr std::size_t k_filler_tries = 4;
const std::atomic<bool> k_never{false};

// How the server's answers went, for the stage's messages.
struct Asked {
  std::string url;
  std::size_t calls = 0;
};

util::Result<std::size_t> ask_tokenize(const RunState& state, const std::string& text, Asked& asked) {
  scenario::Scenario s = state.scenario();
  s.request.stream = false;  // a JSON answer: the transfer keeps its body (a stream would be parsed as SSE)
  nlohmann::json body = {{"prompt", text}, {"add_special_tokens", false}};
  if (!state.report->model.empty()) {
    body["model"] = state.report->model;
  }
  const engine::TargetAccess access{&s, state.report->target_url, state.request->bearer_token,
                                    state.request->stop != nullptr ? state.request->stop : &k_never};
  ++asked.calls;
  auto exchanged = engine::exchange(access, k_tokenize_path, /*get=*/false, util::dump_json(body));
  if (!exchanged) {
    return util::fail(fmt::format("POST {}: {}", asked.url, exchanged.error()));
  }
  if (exchanged->http_status == 0) {
    return util::fail(fmt::format("POST {}: no answer: {}", asked.url, exchanged->curl_error));
  }
  if (exchanged->http_status < 200 || exchanged->http_status > 299) {
    return util::fail(fmt::format("POST {} answered HTTP {}{}", asked.url, exchanged->http_status,
                                  exchanged->body.empty() ? "" : " " + exchanged->body.substr(0, 200)));
  }
  auto count = parse_tokenize_count(exchanged->body);
  if (!count) {
    return util::fail(fmt::format("POST {}: {}", asked.url, count.error()));
  }
  return count;
}

std::string_view mode_name(scenario::TokenCountsSpec::Calibrate mode) {
  using Calibrate = scenario::TokenCountsSpec::Calibrate;
  return mode == Calibrate::on ? "on" : mode == Calibrate::off ? "off" : "auto";
}

}  // namespace

std::size_t align_up(std::size_t n, std::size_t block) {
  if (block == 0) {
    return n;
  }
  return (n + block - 1) / block * block;
}

util::Result<std::size_t> parse_tokenize_count(std::string_view body) {
  auto parsed = util::parse_json_bounded(body);
  if (!parsed || !parsed->is_object() || !parsed->contains("count") || !(*parsed)["count"].is_number_unsigned()) {
    return util::fail(fmt::format("the answer is not vLLM's TokenizeResponse {{\"count\": N, \"tokens\": [...]}}: {}",
                                  std::string(body.substr(0, 200))));
  }
  return (*parsed)["count"].get<std::size_t>();
}

util::Result<PrefixSearch> search_prefix(std::size_t target, const PrefixBuilder& build, const TokenCounter& count) {
  PrefixSearch found;
  std::map<std::size_t, std::size_t> by_words;  // words (no fillers) -> server tokens
  const auto words_count = [&](std::size_t words) -> util::Result<std::size_t> {
    if (words == 0) {
      return std::size_t{0};
    }
    if (const auto it = by_words.find(words); it != by_words.end()) {
      return it->second;
    }
    ++found.calls;
    auto counted = count(build(words, 0));
    if (counted) {
      by_words[words] = *counted;
    }
    return counted;
  };
  auto first = words_count(target);
  if (!first) {
    return util::fail(first.error());
  }
  found.uncalibrated_tokens = *first;
  if (*first == target) {  // the server counts as the generator does
    found.words = target;
    found.tokens = target;
    return found;
  }
  // The most words whose count is <= target: lo counts <= target, hi counts more.
  std::size_t lo = 0;
  std::size_t hi = target;
  if (*first <= target) {
    lo = target;
    hi = 0;
    const std::size_t limit = 16 * target + 64;  // a server that counts 16 words as one token is not a tokenizer
    for (std::size_t probe = 2 * target + 1; hi == 0; probe *= 2) {
      if (probe > limit) {
        return util::fail(fmt::format("the server counts {} words as at most {} tokens: no prefix of the "
                                      "generator's words reaches {} tokens",
                                      lo, target, target));
      }
      auto counted = words_count(probe);
      if (!counted) {
        return util::fail(counted.error());
      }
      (*counted <= target ? lo : hi) = probe;
    }
  }
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    auto counted = words_count(mid);
    if (!counted) {
      return util::fail(counted.error());
    }
    (*counted <= target ? lo : hi) = mid;
  }
  auto base = words_count(lo);
  if (!base) {
    return util::fail(base.error());
  }
  found.words = lo;
  found.fillers = target - *base;
  std::size_t closest = *base;
  for (std::size_t attempt = 0; attempt < k_filler_tries; ++attempt) {
    if (found.fillers == 0) {
      found.tokens = *base;
      return found;
    }
    ++found.calls;
    auto counted = count(build(found.words, found.fillers));
    if (!counted) {
      return util::fail(counted.error());
    }
    closest = *counted;
    if (*counted == target) {
      found.tokens = target;
      return found;
    }
    if (*counted < target) {
      found.fillers += target - *counted;
    } else if (found.fillers > *counted - target) {
      found.fillers -= *counted - target;
    } else {
      break;
    }
  }
  return util::fail(fmt::format("no prefix of the generator's words and filler words measures exactly {} tokens "
                                "(closest {})",
                                target, closest));
}

Next calibrate_prefixes(RunState& state) {
  scenario::Scenario& s = *state.request->scenario;
  scenario::RequestSpec& spec = s.request;
  RunReport& report = *state.report;
  CalibrationReport& out = report.calibration.emplace();
  out.mode = std::string(mode_name(spec.token_counts.calibrate));
  out.tokenize_url = report.target_url + std::string(k_tokenize_path);
  out.chat = spec.api == scenario::ApiKind::chat;
  out.requested_tokens = spec.prefix_tokens;
  std::size_t target = spec.prefix_tokens;
  if (spec.token_counts.align_to_block) {
    std::string source;
    const auto block = resolve_block_size(s.cache_state,
                                          state.source ? scrape::snapshot_pods(state.source->scrape_all(), s.cache.model_filter)
                                                       : std::vector<scrape::PodSnapshotResult>{},
                                          state.sim ? s.sim.pod.block_size_tokens : 0, source);
    if (!block) {
      report.errors.push_back("requests.token_counts.align_to_block: the block size is not known (no pod exports "
                              "vllm:cache_config_info): set cache_state.block_size");
      state.detail = "block size unknown";
      return Next::stop;
    }
    out.block_size_tokens = *block;
    out.block_size_source = source;
    target = align_up(target, *block);
  }
  out.aligned_tokens = target;
  auto source = engine::PromptSource::create(spec);
  if (!source) {
    report.errors.push_back("calibrate: " + source.error());
    return Next::stop;
  }
  const bool per_session = spec.prompt == scenario::PromptKind::per_session;
  const std::size_t sessions = per_session ? std::max<std::size_t>(1, max_sessions(s.phases)) : 1;
  Asked asked{out.tokenize_url, 0};
  const TokenCounter counter = [&](const std::string& text) { return ask_tokenize(state, text, asked); };
  std::vector<scenario::CalibratedPrefix> calibrated;
  for (std::size_t session = 0; session < sessions && !state.stop_requested(); ++session) {
    const PrefixBuilder build = [&](std::size_t words, std::size_t fillers) {
      return source->generated_prefix(session, words, fillers);
    };
    auto found = search_prefix(target, build, counter);
    if (!found) {
      const std::string problem = found.error();
      out.tokenize_calls = asked.calls;
      if (spec.token_counts.calibrate == scenario::TokenCountsSpec::Calibrate::on) {
        const std::string message = fmt::format("requests.token_counts.calibrate: on: the prefixes could not be "
                                                "calibrated: {}",
                                                problem);
        report.diagnostics.push_back({"tokenize_unavailable", scrape::Severity::error, message,
                                      fmt::format("serve vLLM's POST /tokenize at {} (the pods and the llm-d gateway "
                                                  "route it), or set requests.token_counts.calibrate: auto or off",
                                                  out.tokenize_url)});
        report.errors.push_back(message + "; serve POST /tokenize on the target or set requests.token_counts."
                                          "calibrate: auto / off");
        state.detail = "failed";
        return Next::stop;
      }
      out.note = "not calibrated: " + problem + "; prefix lengths are the generator's (one word = one token)";
      report.notes.push_back("token counts " + out.note);
      state.detail = "not calibrated (POST /tokenize did not answer)";
      return Next::go_on;
    }
    calibrated.push_back({found->words, found->fillers, found->tokens});
    out.prefixes.push_back({per_session ? fmt::format("session {}", session) : "shared prefix", found->words,
                            found->fillers, found->uncalibrated_tokens, found->tokens});
  }
  out.tokenize_calls = asked.calls;
  if (state.stop_requested()) {
    out.prefixes.clear();
    out.note = "not calibrated: interrupted (Ctrl-C / SIGTERM)";
    state.detail = "interrupted";
    return Next::go_on;
  }
  out.calibrated = true;
  spec.calibrated = std::move(calibrated);
  state.detail = fmt::format("{} prefix{} of {} server tokens, {} POST /tokenize", out.prefixes.size(),
                             out.prefixes.size() == 1 ? "" : "es", target, asked.calls);
  return Next::go_on;
}

}  // namespace llmd::run
