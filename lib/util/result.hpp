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

// Evaluates a util::Result<...> expression and returns its error from the enclosing function
// (ccache's TRY).
#define LLMD_TRY(expression)                                     \
  do {                                                           \
    if (auto llmd_try_result = (expression); !llmd_try_result) { \
      return ::llmd::util::fail(llmd_try_result.error());        \
    }                                                            \
  } while (false)
