# Instrumented builds. Both apply to every target defined after this file is included (product
# code, tests, fuzz targets), so a report points into lib/ with full stacks.
#
# LLMD_SANITIZE  the CI's second build (scripts/test.sh, build-asan/): AddressSanitizer (with
#                LeakSanitizer) and UndefinedBehaviorSanitizer with the normal compiler (gcc).
#                Any UB report aborts the test (-fno-sanitize-recover), so ctest sees it fail.
#                float-cast-overflow is named on its own: gcc's `undefined` group leaves it out.
# LLMD_FUZZ      the libFuzzer targets of test/fuzz (scripts/fuzz.sh, build-fuzz/): clang only;
#                lib/ gets coverage instrumentation (-fsanitize=fuzzer-no-link) plus the same
#                sanitizers, and each fuzz target links libFuzzer's own main (-fsanitize=fuzzer).
option(LLMD_SANITIZE "Build with -fsanitize=address,undefined (CI's second build directory)" OFF)
option(LLMD_FUZZ "Build the libFuzzer targets of test/fuzz with clang (implies the sanitizers)" OFF)

if(LLMD_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "LLMD_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++, "
                      "or use scripts/fuzz.sh, which does")
endif()

if(LLMD_SANITIZE OR LLMD_FUZZ)
  set(LLMD_SANITIZER_FLAGS -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow
                           -fno-omit-frame-pointer)
  add_compile_options(${LLMD_SANITIZER_FLAGS})
  add_link_options(-fsanitize=address,undefined,float-cast-overflow)
  # gcc's -Wmaybe-uninitialized is unreliable under the sanitizers' instrumentation (gcc's manual and
  # bug 105562): with -O2 it flags boost::optional inside Beast's parser; the normal build keeps it.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()

if(LLMD_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# LLMD_TSAN      ThreadSanitizer, for the code that runs on several threads (the engine's `--threads`
#                loops and their shared ledger, the simulator's io threads, the cache sampler):
#                scripts/tsan.sh builds build-tsan/ and runs the tests that start threads. Not with
#                LLMD_SANITIZE (TSan and ASan cannot be combined).
option(LLMD_TSAN "Build with -fsanitize=thread (scripts/tsan.sh)" OFF)
if(LLMD_TSAN)
  if(LLMD_SANITIZE OR LLMD_FUZZ)
    message(FATAL_ERROR "LLMD_TSAN cannot be combined with LLMD_SANITIZE or LLMD_FUZZ")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
