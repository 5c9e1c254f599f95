#pragma once
// `run --out csv=FILE`: one row per request of the measured phases, written while the run goes
// (engine::EngineConfig::on_request -> util::StreamingFile: memory stays one 256 KiB buffer
// whatever the request count), renamed into place when the run ends, also when it was interrupted
// or failed (the rows gathered so far are the file).
//
// Columns (RFC 4180; a header line first):
//   phase, vu              the phase's name; the user (closed loop) or session slot (open loop)
//   scheduled_s            when it was due (open loop) or started (closed loop), seconds from the run start
//   started_s              handed to the HTTP client, seconds from the run start
//   first_byte_s           first response byte (empty: none)
//   first_event_s          first SSE event (empty: none)
//   ttft_ms                ok requests: first token, from scheduled (open loop) or started (closed loop)
//   e2e_ms                 end, from the same reference instant (as http_req_duration; also for failures)
//   status                 HTTP status (empty: no response)
//   result                 ok | failed | aborted
//   error_class            failed requests: connect, tls, timeout, http_status, stream_cut, ... (run_result.hpp)
//   output_tokens          ok requests
//   endpoint, pod          the served-by header's endpoint and the pod it maps to (empty: not attributed)
//   good                   with a scenario `slo:`: 1 when the request was ok and met every objective, else 0
//                          (engine/outcome.hpp judge_slo); empty without an SLO
// Times are the engine's monotonic clock (microsecond precision in the file), the same clock as
// the JSON result's offsets (run.per_second, phases' started_at_ns).
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "engine/engine.hpp"
#include "util/result.hpp"
#include "util/streaming_file.hpp"

namespace llmd::report {

inline constexpr std::string_view k_request_csv_header =
    "phase,vu,scheduled_s,started_s,first_byte_s,first_event_s,ttft_ms,e2e_ms,status,result,error_class,output_tokens,"
    "endpoint,pod,good\n";

// One row (with its newline) into `out`.
void append_request_row(std::string& out, const engine::RequestRecord& record, std::string_view pod);

class RequestCsv {
 public:
  // Opens `path` (util::StreamingFile) and writes the header.
  static util::Result<std::unique_ptr<RequestCsv>> open(const std::filesystem::path& path);
  void row(const engine::RequestRecord& record, std::string_view pod);
  util::Result<void> commit() { return m_file->commit(); }
  std::uint64_t rows() const { return m_rows; }

 private:
  explicit RequestCsv(std::unique_ptr<util::StreamingFile> file) : m_file(std::move(file)) {}
  std::unique_ptr<util::StreamingFile> m_file;
  std::string m_line;  // scratch, reused
  std::uint64_t m_rows = 0;
};

}  // namespace llmd::report
