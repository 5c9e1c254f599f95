#pragma once
// `run`'s result destinations: --out FORMAT=FILE (repeatable) and --tekton-results DIR. Parsed
// and checked before the first request (a destination that cannot be written is a usage error,
// exit 2, before any load is sent), written after the run: files first, then the destinations
// that cannot be rewritten (standard output, devices, FIFOs, sockets), once each. FILE "-" is
// standard output: the document is then the only thing there and the text summary and progress
// line go to standard error.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/exporter.hpp"
#include "report/request_csv.hpp"
#include "run/run_report.hpp"
#include "util/result.hpp"

namespace llmd::cli {

struct OutputFile {
  report::OutputFormat format = report::OutputFormat::json;
  std::string path;  // as given; "-" is standard output
  bool to_stdout() const { return path == "-"; }
};

struct Outputs {
  std::vector<OutputFile> files;
  std::optional<std::string> tekton_results_dir;
  // --out prometheus-push=URL (repeatable): Pushgateways the run's metrics are PUT to after the
  // files are written (report/pushgateway.hpp); each URL checked by parse_outputs.
  std::vector<std::string> push_urls;
  bool uses_stdout() const;
};

// `--out` specs and `--tekton-results`. Errors quote the flag: an unknown format, "-" for two
// outputs, a prometheus-push URL that is not http(s) with a host (URL user info redacted).
util::Result<Outputs> parse_outputs(const std::vector<std::string>& specs, std::optional<std::string> tekton_results_dir);

// Before the first request: creates the Tekton folder and checks its files first, then that every
// --out destination can be written (util::check_output_writable), that no two --out name one file
// (symlinks followed) and that none is the Tekton folder or one of its result files (each of these
// used to be found only after the whole run, exit 3), and removes the temporaries a killed run left next to them. Returns one note per removed file, or the first error, naming
// the flag and the path and saying what to do.
util::Result<std::vector<std::string>> prepare_outputs(const Outputs& outputs);

// Removes stale temporaries (util::remove_stale_temporaries) from `dir`; one note per file.
std::vector<std::string> remove_stale_temporaries_in(const std::filesystem::path& dir);

// Writes every output that is a file (a regular file or a new name, replaced atomically, so it
// can be written again with a corrected verdict) and the Tekton results; returns what could not
// be written, each naming its flag and path.
std::vector<std::string> write_output_files(const run::RunReport& report, const Outputs& outputs);

// PUTs the run's metrics (report/prometheus_push.hpp) to every --out prometheus-push=URL; returns
// what could not be pushed, each naming the flag and the URL (user info redacted) and the reason:
// curl's words, or the Pushgateway's status and the first line of its answer. Each push carries the
// verdict as it stands then: a push that fails after another succeeded makes the files (written
// again) say "error", not the push already made.
std::vector<std::string> push_outputs(const run::RunReport& report, const Outputs& outputs);

// The outputs whose bytes stay where they are written, in the order given: standard output, and a
// character device, FIFO or socket. Each is written once, after the files (write_output).
std::vector<OutputFile> stream_outputs(const Outputs& outputs);

// The --out csv=FILE outputs, open from before the first request to the end of the run: each row
// is written as its request ends (report/request_csv.hpp), and commit() puts every file in place
// (also after an interruption or an error: the rows so far are the file).
class RequestLogs {
 public:
  // Opens every csv output of `outputs` (none: an empty set). Errors name the flag and path.
  static util::Result<RequestLogs> open(const Outputs& outputs);
  bool empty() const { return m_logs.empty(); }
  void row(const engine::RequestRecord& record, std::string_view pod);
  // Each file's failure, naming the flag and path; committing twice does nothing more.
  std::vector<std::string> commit();

 private:
  std::vector<std::pair<OutputFile, std::unique_ptr<report::RequestCsv>>> m_logs;
  bool m_committed = false;
};

// Prints a command's text summary: on standard output, or standard error when an --out FILE is "-"
// (the document is then the only thing on standard output).
void print_summary(const Outputs& outputs, const std::string& text);

// Writes one output (FILE "-": standard output); returns its failure, naming the flag and path.
std::optional<std::string> write_output(const run::RunReport& report, const OutputFile& output);

}  // namespace llmd::cli
