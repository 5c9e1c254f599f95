#pragma once
#include <string>

namespace llmd::scenario {

// Where a value came from, for error messages: "scenarios/x.yaml:12:5" or "--target".
struct SourceLocation {
  std::string file;  // scenario path, or the flag name for CLI overrides
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
};

// "file:line:column", "file:line" or "file".
std::string to_string(const SourceLocation& where);

}  // namespace llmd::scenario
