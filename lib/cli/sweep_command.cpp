#include "cli/sweep_command.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/run_outputs.hpp"
#include "cli/run_signals.hpp"
#include "report/html_report.hpp"
#include "report/sweep_report.hpp"
#include "run/embedded_sim.hpp"
#include "run/sweep.hpp"
#include "scenario/limits.hpp"
#include "util/console.hpp"
#include "util/duration.hpp"
#include "util/json_text.hpp"
#include "util/atomic_file.hpp"
#include "util/process.hpp"

namespace llmd::cli {

namespace {

// "1,2,4.5" -> {1, 2, 4.5}: each > 0 and at most `max`, in the order given.
util::Result<std::vector<double>> parse_loads(std::string_view flag, const std::string& text, double max, bool whole) {
  std::vector<double> loads;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    const double value = std::strtod(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || !(value > 0) || value > max ||
        (whole && value != std::floor(value))) {
      return util::fail(fmt::format("{}: \"{}\" is not a {} between 0 and {} (expected a list like {})", flag, item,
                                    whole ? "whole number" : "number", max, whole ? "8,16,32" : "1,2,4.5"));
    }
    loads.push_back(value);
    start = comma + 1;
  }
  return loads;
}

util::Result<run::SweepPlan> sweep_plan(const SweepOptions& o) {
  run::SweepPlan plan;
  const int modes = (o.rates ? 1 : 0) + (o.concurrency ? 1 : 0) + (o.search ? 1 : 0);
  if (modes != 1) {
    return util::fail("sweep: give exactly one of --rates LIST, --concurrency LIST or --search rate --min R --max R");
  }
  const double max_rate = scenario::limits::k_max_rate_per_s;
  if (o.rates) {
    plan.mode = run::SweepMode::rates;
    auto loads = parse_loads("--rates", *o.rates, max_rate, false);
    if (!loads) {
      return util::fail(loads.error());
    }
    plan.loads = std::move(*loads);
  } else if (o.concurrency) {
    plan.mode = run::SweepMode::concurrency;
    auto loads = parse_loads("--concurrency", *o.concurrency, static_cast<double>(scenario::limits::k_max_concurrency), true);
    if (!loads) {
      return util::fail(loads.error());
    }
    plan.loads = std::move(*loads);
  } else {
    if (*o.search != "rate") {
      return util::fail(fmt::format("--search: \"{}\" cannot be searched; expected rate (--concurrency takes a list)", *o.search));
    }
    if (!o.min || !o.max) {
      return util::fail("--search rate needs --min R and --max R (requests per second), e.g. --min 1 --max 200");
    }
    if (!(*o.min > 0) || !(*o.max >= *o.min) || *o.max > max_rate) {
      return util::fail(fmt::format("--min {} --max {}: expected 0 < min <= max <= {}", *o.min, *o.max, max_rate));
    }
    plan.mode = run::SweepMode::search_rate;
    plan.min = *o.min;
    plan.max = *o.max;
    plan.resolution = o.resolution ? *o.resolution : std::max(0.1, plan.min * 0.05);
    if (!(plan.resolution > 0)) {
      return util::fail(fmt::format("--resolution {}: expected a rate > 0 (req/s)", plan.resolution));
    }
  }
  if ((o.rates || o.concurrency) && (o.min || o.max || o.resolution)) {
    return util::fail("--min, --max and --resolution go with --search rate, not with a list of loads");
  }
  auto duration = util::parse_duration(o.step_duration);
  if (!duration || duration->count() <= 0) {
    return util::fail(fmt::format("--step-duration: {}", duration ? "must be > 0" : duration.error()));
  }
  plan.step_duration = *duration;
  auto lag = util::parse_duration(o.max_client_lag);
  if (!lag || lag->count() <= 0) {
    return util::fail(fmt::format("--max-client-lag: {}", lag ? "must be > 0" : lag.error()));
  }
  plan.max_client_lag = *lag;
  if (!(o.good_fraction >= 0 && o.good_fraction <= 1)) {
    return util::fail(fmt::format("--good-fraction {}: a fraction between 0 and 1 (0.95 = 95%)", o.good_fraction));
  }
  plan.good_fraction = o.good_fraction;
  if (o.require_rate && !(*o.require_rate > 0)) {
    return util::fail(fmt::format("--require-rate {}: expected a load > 0", *o.require_rate));
  }
  plan.require_rate = o.require_rate;
  plan.phase = o.phase;
  return plan;
}

}  // namespace

CommandResult run_sweep_command(const SweepOptions& options) {
  CommandResult result;
  auto plan = sweep_plan(options);
  if (!plan) {
    return result.fail(k_exit_usage, plan.error());
  }
  auto inputs = check_run_inputs(options.run);
  if (!inputs) {
    return result.fail(k_exit_usage, inputs.error());
  }
  const scenario::Scenario& s = inputs->scenario;
  if (auto phase = run::sweep_phase(s, plan->phase); !phase) {
    return result.fail(k_exit_usage, phase.error());
  }
  if (s.thresholds.empty() && !s.slo) {
    return result.fail(k_exit_usage, fmt::format("{}: a sweep needs a pass/fail criterion per step: add `thresholds:` "
                                                 "(e.g. ttft: [\"p(95)<2s\"]) or an `slo:` section",
                                                 s.path));
  }
  auto outputs = parse_outputs(options.outputs, std::nullopt);
  if (!outputs) {
    return result.fail(k_exit_usage, outputs.error());
  }
  for (const auto& output : outputs->files) {
    if (output.format != report::OutputFormat::json && output.format != report::OutputFormat::junit &&
        output.format != report::OutputFormat::html) {
      return result.fail(k_exit_usage, fmt::format("--out {}={}: sweep writes json, junit or html",
                                                   report::to_string(output.format), output.path));
    }
  }
  auto ready = prepare_outputs(*outputs);
  if (!ready) {
    return result.fail(k_exit_usage, ready.error());
  }
  util::raise_open_file_limit();
  RunSignals signals;
  run::SweepResult sweep;
  std::shared_ptr<run::EmbeddedSim> sim;
  if (s.target.base_url.empty()) {
    auto started = run::start_embedded_sim(s);
    if (!started) {
      return result.fail(k_exit_run_failed, "embedded simulator: " + started.error());
    }
    sim = std::move(*started);
  }
  run::SweepRequest request;
  request.scenario = &inputs->scenario;
  request.plan = *plan;
  request.stop = &signals.stop_flag();
  request.run = base_run_request(options.run, *inputs, signals);
  request.run.sim = sim;
  if (!sim) {  // once here, not in every step's run (request.run.ignored_sim_flags stays empty)
    for (const auto flag : given_sim_flags(options.run)) {
      say_on_stderr("warning: " + run::ignored_sim_flag_warning(flag, request.run.target_origin));
    }
  }
  request.on_step = [&](const run::SweepStep& step) {
    if (!options.run.quiet) {
      say_on_stderr(fmt::format("sweep step {}: {}: {}{}", step.index, run::load_with_unit(step.load, plan->mode),
                                run::to_string(step.verdict),
                                step.ttft_p95 ? fmt::format(", ttft p95 {}", util::format_seconds(*step.ttft_p95)) : ""));
    }
  };
  try {
    run::run_sweep(request, sweep);
  } catch (const std::exception& e) {
    sweep.errors.push_back(std::string("internal error: ") + e.what());
    result.internal_errors.push_back(std::string(e.what()) + " (please report it; the steps so far are written)");
  }
  if (signals.stop_flag().load() && sweep.answer.limit != "interrupted") {
    sweep.errors.push_back("interrupted: the sweep stopped before its answer (Ctrl-C / SIGTERM)");
  }
  result.exit_code = run::sweep_exit_code(sweep);
  if (signals.stop_flag().load()) {
    result.exit_code = k_exit_interrupted;
  }
  const nlohmann::json document = report::to_json(sweep);
  for (const auto& output : outputs->files) {
    std::string content;
    if (output.format == report::OutputFormat::junit) {
      content = report::render_sweep_junit(sweep);
    } else if (output.format == report::OutputFormat::html) {
      content = report::render_sweep_html(document).value_or(std::string());
    } else {
      content = util::dump_json(document, 2) + "\n";
    }
    if (output.to_stdout()) {
      util::print_stdout(content);
    } else if (auto written = util::write_file_atomically(output.path, content); !written) {
      result.fail(k_exit_run_failed, fmt::format("--out {}={}: {}", report::to_string(output.format), output.path,
                                                 written.error()));
    }
  }
  print_summary(*outputs, report::render_sweep_text(sweep));
  return result;
}

void add_sweep_options(CLI::App& command, SweepOptions& options) {
  add_run_options(command, options.run);
  // run's load, shard and output flags do not apply: each step's load is the sweep's.
  for (const char* name : {"--vus", "--duration", "--rate", "--iterations", "--out", "--tekton-results", "--shard",
                           "--shards", "--start-at", "--no-gates", "--cache-interval"}) {
    command.remove_option(command.get_option(name));
  }
  command.add_option("--rates", options.rates, "Open-loop rates to run, in order (req/s), e.g. 1,2,4,8")->type_name("LIST");
  command.add_option("--concurrency", options.concurrency, "Closed-loop user counts to run, in order, e.g. 8,16,32")
      ->type_name("LIST");
  command.add_option("--search", options.search,
                     "Search the highest passing rate: exponential up from --min, then bisection to --resolution")
      ->type_name("rate");
  command.add_option("--min", options.min, "--search: the first and lowest rate (req/s)")->type_name("R");
  command.add_option("--max", options.max, "--search: the highest rate tried (req/s)")->type_name("R");
  command.add_option("--resolution", options.resolution,
                     "--search: stop when the passing and failing rates are this close (req/s; default 5% of --min, at "
                     "least 0.1)")
      ->type_name("R");
  command.add_option("--step-duration", options.step_duration, "How long each step's load runs, e.g. 30s (default 30s)")
      ->type_name("D");
  command.add_option("--good-fraction", options.good_fraction,
                     "With an slo: a step passes only when at least this fraction of its requests is good (default 0.95)")
      ->type_name("F");
  command.add_option("--max-client-lag", options.max_client_lag,
                     "A step whose event loop or schedule ran later than this (p99) is client-limited (default 25ms)")
      ->type_name("D");
  command.add_option("--require-rate", options.require_rate,
                     "Exit 1 unless the capacity found is at least this (req/s; users with --concurrency)")
      ->type_name("X");
  command.add_option("--phase", options.phase, "The measured phase to sweep (default: the scenario's only one)")
      ->type_name("NAME");
  command.add_option("--out", options.outputs,
                     "Write the sweep: json=FILE (llmd-bench/sweep v1), junit=FILE or html=FILE (latency against "
                     "throughput per step) (repeatable; FILE - is stdout)")
      ->type_name("FORMAT=FILE")
      ->allow_extra_args(false);
  command.footer(
      "Each step is a whole run of the scenario (snapshots, load, judging) at one load; a step passes when every "
      "threshold holds\nand, with an slo, its good fraction is at least --good-fraction.\n\n"
      "Examples:\n"
      "  llmd-bench sweep scenarios/capacity.yaml --search rate --min 2 --max 256 --step-duration 20s\n"
      "  llmd-bench sweep scenarios/capacity.yaml --rates 5,10,20,40 --out json=sweep.json --out junit=sweep.xml\n"
      "  llmd-bench sweep s.yaml --target http://gw --concurrency 8,16,32,64 --require-rate 32");
}

}  // namespace llmd::cli
