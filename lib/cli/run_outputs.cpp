#include "cli/run_outputs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "cli/exit_codes.hpp"
#include "report/prometheus_push.hpp"
#include "report/pushgateway.hpp"
#include "report/tekton_results.hpp"
#include "util/atomic_file.hpp"
#include "util/console.hpp"
#include "util/output_path.hpp"
#include "util/redact.hpp"

namespace llmd::cli {

namespace fs = std::filesystem;

namespace {

std::string flag_of(const OutputFile& output) {
  return fmt::format("--out {}={}", report::to_string(output.format), output.path);
}

constexpr std::string_view k_push_prefix = "prometheus-push=";

std::string push_flag(const std::string& url) { return util::redact(fmt::format("--out {}{}", k_push_prefix, url)); }

// Standard output, a character device, a FIFO or a socket: what is written there stays.
bool is_stream(const OutputFile& output) {
  if (output.to_stdout()) {
    return true;
  }
  auto target = util::resolve_output(output.path);
  return target && (target->kind == util::OutputKind::char_device || target->kind == util::OutputKind::fifo ||
                    target->kind == util::OutputKind::socket);
}

}  // namespace

bool Outputs::uses_stdout() const {
  return std::any_of(files.begin(), files.end(), [](const OutputFile& f) { return f.to_stdout(); });
}

util::Result<Outputs> parse_outputs(const std::vector<std::string>& specs, std::optional<std::string> tekton_results_dir) {
  Outputs outputs{{}, std::move(tekton_results_dir), {}};
  for (const auto& spec : specs) {
    if (spec.starts_with(k_push_prefix)) {
      const std::string url = spec.substr(k_push_prefix.size());
      if (auto checked = report::check_pushgateway_url(url); !checked) {
        return util::fail(fmt::format("{}: {}", push_flag(url), checked.error()));
      }
      outputs.push_urls.push_back(url);
      continue;
    }
    const auto eq = spec.find('=');
    auto format = report::parse_output_format(spec.substr(0, eq));
    if (eq == std::string::npos || eq + 1 == spec.size() || !format) {
      return util::fail(fmt::format("--out \"{}\": expected FORMAT=FILE with FORMAT json, junit, html or csv, e.g. --out json=result.json "
                                    "(FILE - is standard output), or prometheus-push=URL",
                                    util::redact(spec)));
    }
    OutputFile output{*format, spec.substr(eq + 1)};
    if (output.to_stdout() && outputs.uses_stdout()) {
      return util::fail(fmt::format("--out \"{}\": standard output (-) is already the destination of another --out; only one "
                                    "output can go there",
                                    spec));
    }
    outputs.files.push_back(std::move(output));
  }
  return outputs;
}

namespace {

// `path` absolute, symlinks of its existing part followed, "." and ".." resolved.
fs::path normal_path(const fs::path& path) {
  std::error_code error;
  const auto canonical = fs::weakly_canonical(path, error);
  return (error ? fs::absolute(path) : canonical).lexically_normal();
}

// --tekton-results DIR before the --out files: its folder is created first (an --out file inside
// it then finds its folder), and no --out may name DIR itself or one of its result files (either
// would only fail, or be overwritten, after the whole run).
util::Result<void> check_against_tekton_dir(const OutputFile& output, const fs::path& file, const fs::path& tekton_dir) {
  if (file == tekton_dir) {
    return util::fail(fmt::format("{}: {} is the --tekton-results folder; name a file elsewhere", flag_of(output), output.path));
  }
  for (const auto& name : report::k_tekton_result_names) {
    if (file == tekton_dir / name) {
      return util::fail(fmt::format("{}: {} is the Tekton result \"{}\" that --tekton-results writes; name another file",
                                    flag_of(output), output.path, name));
    }
  }
  return {};
}

}  // namespace

util::Result<std::vector<std::string>> prepare_outputs(const Outputs& outputs) {
  std::set<fs::path> folders;
  std::set<fs::path> targets;
  std::optional<fs::path> tekton_dir;
  if (outputs.tekton_results_dir) {
    if (auto ready = report::check_tekton_results(*outputs.tekton_results_dir); !ready) {
      return util::fail(fmt::format("--tekton-results {}: {}", *outputs.tekton_results_dir, ready.error()));
    }
    tekton_dir = normal_path(*outputs.tekton_results_dir);
    folders.insert(*outputs.tekton_results_dir);
  }
  for (const auto& output : outputs.files) {
    if (output.to_stdout()) {
      continue;
    }
    if (tekton_dir) {
      if (auto clash = check_against_tekton_dir(output, normal_path(output.path), *tekton_dir); !clash) {
        return util::fail(clash.error());
      }
    }
    if (auto writable = util::check_output_writable(output.path); !writable) {
      return util::fail(fmt::format("{}: {}", flag_of(output), writable.error()));
    }
    auto target = util::resolve_output(output.path);
    if (!target || (target->kind != util::OutputKind::regular && target->kind != util::OutputKind::missing)) {
      continue;  // a device, FIFO or socket: written in place, no temporary, and two outputs may share /dev/null
    }
    const auto file = fs::absolute(target->path).lexically_normal();
    if (!targets.insert(file).second) {
      return util::fail(fmt::format("{}: {} is already the destination of another --out; give each output its own file",
                                    flag_of(output), output.path));
    }
    folders.insert(file.parent_path());
  }
  std::vector<std::string> notes;
  for (const auto& folder : folders) {
    auto removed = remove_stale_temporaries_in(folder);
    notes.insert(notes.end(), removed.begin(), removed.end());
  }
  return notes;
}

std::vector<std::string> remove_stale_temporaries_in(const fs::path& dir) {
  std::vector<std::string> notes;
  for (const auto& path : util::remove_stale_temporaries(dir)) {
    notes.push_back(fmt::format("removed {}, a temporary file left by an interrupted run", path.string()));
  }
  return notes;
}

std::vector<std::string> write_output_files(const run::RunReport& report, const Outputs& outputs) {
  std::vector<std::string> failures;
  for (const auto& output : outputs.files) {
    if (is_stream(output) || report::is_streamed(output.format)) {
      continue;
    }
    if (auto failure = write_output(report, output)) {
      failures.push_back(std::move(*failure));
    }
  }
  if (outputs.tekton_results_dir) {
    if (auto written = report::write_tekton_results(report, *outputs.tekton_results_dir); !written) {
      failures.push_back(fmt::format("--tekton-results {}: {}", *outputs.tekton_results_dir, written.error()));
    }
  }
  return failures;
}

std::vector<std::string> push_outputs(const run::RunReport& report, const Outputs& outputs) {
  std::vector<std::string> failures;
  if (outputs.push_urls.empty()) {
    return failures;
  }
  const std::string exposition = util::redact(report::render_prometheus_push(report));  // secrets never sent
  const std::string scenario = report::push_scenario_name(report);
  for (const auto& url : outputs.push_urls) {
    const std::string group = report::pushgateway_group_url(url, scenario);
    if (auto pushed = report::push_exposition(group, exposition); !pushed) {
      failures.push_back(util::redact(fmt::format("{}: push to {} failed: {}", push_flag(url), group, pushed.error())));
    }
  }
  return failures;
}

std::vector<OutputFile> stream_outputs(const Outputs& outputs) {
  std::vector<OutputFile> streams;
  std::copy_if(outputs.files.begin(), outputs.files.end(), std::back_inserter(streams),
               [](const OutputFile& output) { return is_stream(output) && !report::is_streamed(output.format); });
  return streams;
}

void print_summary(const Outputs& outputs, const std::string& text) {
  if (outputs.uses_stdout()) {
    util::print_stderr(text);
  } else {
    util::print_stdout(text);
  }
}

std::optional<std::string> write_output(const run::RunReport& report, const OutputFile& output) {
  // secrets never stored
  const auto content = util::redact(report::render(report, output.format, exit_code(report.verdict)));
  util::Result<void> written;
  if (output.to_stdout()) {
    std::fflush(stdout);  // nothing else goes there, but never interleave with a buffered byte
    written = util::write_all(STDOUT_FILENO, content, "standard output");
  } else {
    written = util::write_file_atomically(output.path, content);
  }
  if (!written) {
    return fmt::format("{}: {}", flag_of(output), written.error());
  }
  return std::nullopt;
}

util::Result<RequestLogs> RequestLogs::open(const Outputs& outputs) {
  RequestLogs logs;
  for (const auto& output : outputs.files) {
    if (!report::is_streamed(output.format)) {
      continue;
    }
    auto csv = report::RequestCsv::open(output.path);
    if (!csv) {
      return util::fail(fmt::format("{}: {}", flag_of(output), csv.error()));
    }
    logs.m_logs.emplace_back(output, std::move(*csv));
  }
  return logs;
}

void RequestLogs::row(const engine::RequestRecord& record, std::string_view pod) {
  for (auto& [output, csv] : m_logs) {
    csv->row(record, pod);
  }
}

std::vector<std::string> RequestLogs::commit() {
  std::vector<std::string> failures;
  if (m_committed) {
    return failures;
  }
  m_committed = true;
  for (auto& [output, csv] : m_logs) {
    if (auto written = csv->commit(); !written) {
      failures.push_back(fmt::format("{}: {}", flag_of(output), written.error()));
    }
  }
  return failures;
}

}  // namespace llmd::cli
