#pragma once
// Result<T>: a value or a human-readable error message that already names the input at fault
// (file:line, flag, pod). tl::expected (libexpected-dev) stands in for C++23 std::expected.
#include <string>
#include <tl/expected.hpp>

namespace llmd::util {

template <class T>
using Result = tl::expected<T, std::string>;

inline tl::unexpected<std::string> fail(std::string message) { return tl::unexpected<std::string>(std::move(message)); }

}  // namespace llmd::util
