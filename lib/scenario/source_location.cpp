#include "scenario/source_location.hpp"

#include <fmt/format.h>

namespace llmd::scenario {

std::string to_string(const SourceLocation& where) {
  if (where.line <= 0) {
    return where.file;
  }
  if (where.column <= 0) {
    return fmt::format("{}:{}", where.file, where.line);
  }
  return fmt::format("{}:{}:{}", where.file, where.line, where.column);
}

}  // namespace llmd::scenario
