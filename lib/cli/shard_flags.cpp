#include "cli/shard_flags.hpp"

#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "util/instant.hpp"
#include "util/number_text.hpp"

namespace llmd::cli {

namespace {

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace

util::Result<std::optional<run::ShardPlan>> resolve_shard(const std::optional<std::string>& shard_flag,
                                                          std::optional<std::size_t> shards_flag) {
  std::optional<std::string> text = shard_flag;
  std::string origin = "--shard";
  if (!text) {
    text = environment("LLMD_SHARD");
    origin = "LLMD_SHARD";
  }
  if (shards_flag && (*shards_flag == 0 || *shards_flag > engine::k_max_slices)) {
    return util::fail(fmt::format("--shards: {} shards; give 1 to {}", *shards_flag, engine::k_max_slices));
  }
  if (text) {
    auto slice = engine::parse_slice(*text);
    if (!slice) {
      return util::fail(fmt::format("{}: {}", origin, slice.error()));
    }
    if (shards_flag && *shards_flag != slice->count) {
      return util::fail(fmt::format("{} {} says {} shards but --shards says {}; give one of them", origin, *text,
                                    slice->count, *shards_flag));
    }
    return std::optional<run::ShardPlan>(run::ShardPlan{*slice, origin});
  }
  if (!shards_flag) {
    return std::optional<run::ShardPlan>();
  }
  const auto index_text = environment("JOB_COMPLETION_INDEX");
  if (!index_text) {
    return util::fail(fmt::format(
        "--shards {}: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it in each pod); outside one, "
        "give this process's shard as --shard INDEX/{}",
        *shards_flag, *shards_flag));
  }
  const auto index = util::parse_whole_number(*index_text);
  if (!index) {
    return util::fail(fmt::format("JOB_COMPLETION_INDEX \"{}\" is not a whole number", *index_text));
  }
  if (*index >= *shards_flag) {
    return util::fail(fmt::format("JOB_COMPLETION_INDEX {} is not below --shards {}: the Job's completions must equal "
                                  "--shards (shards are numbered from 0)",
                                  *index, *shards_flag));
  }
  return std::optional<run::ShardPlan>(run::ShardPlan{{*index, *shards_flag}, "JOB_COMPLETION_INDEX with --shards"});
}

util::Result<std::optional<std::chrono::system_clock::time_point>> resolve_start_at(const std::optional<std::string>& flag) {
  using Instant = std::optional<std::chrono::system_clock::time_point>;
  if (!flag) {
    return Instant();
  }
  auto when = util::parse_instant(*flag);
  if (!when) {
    return util::fail("--start-at: " + when.error());
  }
  return Instant(*when);
}

}  // namespace llmd::cli
