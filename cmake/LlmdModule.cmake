# llmd_add_module(NAME SOURCES a.cpp ... DEPS target ...)
#   Defines the static library llmd_<NAME> from lib/<NAME>/, with lib/ on the include path
#   (so code includes "prom/text_parser.hpp").
function(llmd_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(llmd_${name} STATIC ${ARG_SOURCES})
  target_include_directories(llmd_${name} PUBLIC ${PROJECT_SOURCE_DIR}/lib)
  target_link_libraries(llmd_${name} PUBLIC ${ARG_DEPS} PRIVATE llmd_warnings)
endfunction()

# llmd_add_tests(NAME SOURCES a_test.cpp ... DEPS target ... [LABELS l ...] [TIMEOUT s] [NEEDS_BINARY]
#                [WRITES_RESULTS])
#   Defines the GoogleTest executable llmd_<NAME>_tests and registers every test with CTest.
#   Tests get LLMD_TEST_FIXTURES (test/fixtures) and LLMD_BENCH_BINARY (the built binary;
#   NEEDS_BINARY makes the test target depend on it).
#   Suites named *Timing (TEST(EngineSimTiming, ...)) assert timing bounds: event-loop lag, achieved
#   rates, TTFT, how fast a stop takes effect. They get RUN_SERIAL (and the label `timing`): ctest runs
#   nothing else beside them, so a parallel run on 2 cores cannot starve them into failing. A resource
#   lock would only keep them apart from each other, not from the CPU-heavy tests around them.
#   Every test runs with KUBERNETES_SERVICE_HOST empty, as outside a cluster (a CI runner in a pod
#   would otherwise make `run` without a target refuse the embedded simulator). WRITES_RESULTS: the
#   suite runs `llmd-bench run --out json=...`; its tests require the ctest fixture llmd_results
#   (test/CMakeLists.txt) and get LLMD_RESULT_COLLECT_DIR, so every result they write is validated
#   against schema/result-v1.schema.json after them.
function(llmd_add_tests name)
  cmake_parse_arguments(ARG "NEEDS_BINARY;WRITES_RESULTS" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(LLMD_ALLOW_MISSING_SOURCES)  # developer aid while files are being written; never in CI
    foreach(src IN LISTS ARG_SOURCES)
      if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${src})
        message(WARNING "llmd_${name}_tests skipped: ${src} does not exist yet")
        return()
      endif()
    endforeach()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(llmd_${name}_tests ${ARG_SOURCES})
  target_link_libraries(llmd_${name}_tests PRIVATE ${ARG_DEPS} GTest::gmock_main llmd_warnings)
  target_include_directories(llmd_${name}_tests PRIVATE ${PROJECT_SOURCE_DIR}/test)
  target_compile_definitions(llmd_${name}_tests PRIVATE
    LLMD_TEST_FIXTURES="${PROJECT_SOURCE_DIR}/test/fixtures"
    LLMD_BENCH_BINARY="$<TARGET_FILE:llmd-bench>")
  if(ARG_NEEDS_BINARY)
    add_dependencies(llmd_${name}_tests llmd-bench)
  endif()
  gtest_discover_tests(llmd_${name}_tests TEST_FILTER "-*Timing.*" TEST_LIST llmd_${name}_untimed_tests
    PROPERTIES TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 30)
  gtest_discover_tests(llmd_${name}_tests TEST_FILTER "*Timing.*" TEST_LIST llmd_${name}_timing_tests
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} RUN_SERIAL TRUE
    DISCOVERY_TIMEOUT 30)
  # LABELS is a list, which PROPERTIES above cannot carry (CMake 3.25 writes it out as separate words:
  # "LABELS integration;slow TIMEOUT 300" set LABELS=integration and no TIMEOUT). This script, which
  # ctest runs after the discovered tests are defined, sets them.
  set(labels_script "${CMAKE_CURRENT_BINARY_DIR}/llmd_${name}_tests_labels.cmake")
  set(environment "KUBERNETES_SERVICE_HOST=")
  set(fixtures "")
  if(ARG_WRITES_RESULTS)
    string(APPEND environment ";LLMD_RESULT_COLLECT_DIR=${LLMD_RESULT_COLLECT_DIR}")
    set(fixtures "FIXTURES_REQUIRED llmd_results")
  endif()
  file(WRITE "${labels_script}"
    "foreach(test IN LISTS llmd_${name}_untimed_tests)\n"
    "  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${name};${ARG_LABELS}\" ENVIRONMENT \"${environment}\" ${fixtures})\n"
    "endforeach()\n"
    "foreach(test IN LISTS llmd_${name}_timing_tests)\n"
    "  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${name};timing;${ARG_LABELS}\" ENVIRONMENT \"${environment}\" ${fixtures})\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_script}")
endfunction()
