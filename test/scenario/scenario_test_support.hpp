#pragma once
// Helpers for the scenario loader tests: load YAML text as "scenarios/x.yaml" and get the
// scenario or the error message.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "scenario/loader.hpp"

namespace llmd::scenario::test {

inline constexpr std::string_view k_file = "scenarios/x.yaml";

// A valid `load:` section for tests that exercise other sections (lines 1-4 of the text).
inline constexpr std::string_view k_load = "load:\n  - executor: constant-vus\n    vus: 1\n    duration: 1s\n";

inline Scenario load_ok(std::string_view text) {
  auto scenario = load_scenario_text(text, k_file);
  EXPECT_TRUE(scenario.has_value()) << (scenario ? "" : scenario.error());
  return scenario ? *scenario : Scenario{};
}

// The error of loading `text`; "" (and a test failure) when it loads.
inline std::string load_error(std::string_view text) {
  auto scenario = load_scenario_text(text, k_file);
  EXPECT_FALSE(scenario.has_value()) << "loaded without error:\n" << text;
  return scenario ? std::string() : scenario.error();
}

}  // namespace llmd::scenario::test
