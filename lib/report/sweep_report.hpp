#pragma once
// The outputs of `llmd-bench sweep` (run/sweep.hpp): the `llmd-bench/sweep` v1 JSON document
// (schema/sweep-v1.schema.json), the terminal table with the answer, and JUnit (one testcase per
// step, a failure when it did not pass, and one for --require-rate).
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "run/sweep.hpp"

namespace llmd::report {

nlohmann::json to_json(const run::SweepResult& result);
std::string render_sweep_text(const run::SweepResult& result);
std::string render_sweep_junit(const run::SweepResult& result);

}  // namespace llmd::report
