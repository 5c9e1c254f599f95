#pragma once
#include <string>
#include <vector>

namespace llmd::cli {

// Parses argv, runs the chosen subcommand and returns the process exit code (exit_codes.hpp).
// Errors are printed once, here, as "llmd-bench: error: ..." on stderr.
int run(int argc, char** argv);
int run(std::vector<std::string> args);

}  // namespace llmd::cli
