#include "cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/exit_codes.hpp"

namespace llmd::cli {

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return run(std::move(args));
}

int run(std::vector<std::string> args) {
  CLI::App app{"llmd-bench: load and prefix-cache validation for vLLM / llm-d serving stacks", "llmd-bench"};
  app.require_subcommand(1);
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "llmd-bench: error: {}\n", e.what());
    return k_exit_usage;
  }
  return k_exit_ok;
}

}  // namespace llmd::cli
