#include <fmt/format.h>

#include "scenario/scenario.hpp"
#include "util/duration.hpp"

namespace llmd::scenario {

std::string describe(const LengthDistribution& length) {
  using Kind = LengthDistribution::Kind;
  switch (length.kind) {
    case Kind::constant: return fmt::format("{}", static_cast<std::size_t>(length.a));
    case Kind::uniform: return fmt::format("uniform {}..{}", length.min_tokens, length.max_tokens);
    case Kind::normal:
    case Kind::lognormal:
      return fmt::format("{} mean {:g} stddev {:g} in {}..{}", length.kind == Kind::normal ? "normal" : "lognormal",
                         length.a, length.b, length.min_tokens, length.max_tokens);
  }
  return "";
}

std::string describe(const MultiTurnSpec& spec, std::size_t max_tokens, const std::string& session_header) {
  const std::string output =
      spec.output_tokens ? describe(*spec.output_tokens) : fmt::format("{} (requests.max_tokens)", max_tokens);
  const std::string system =
      spec.system_prompt_tokens > 0 ? fmt::format("system prompt {} tokens", spec.system_prompt_tokens) : "no system prompt";
  return fmt::format("multi-turn (turns {}, user_tokens {}, output_tokens {}, {}, think time {}, session header {})",
                     describe(spec.turns), describe(spec.user_tokens), output, system,
                     util::format_duration(spec.think_time), session_header);
}

}  // namespace llmd::scenario
