#include "report/request_csv.hpp"

#include <iterator>

#include <fmt/format.h>

namespace llmd::report {

namespace {

// RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled.
void append_field(std::string& out, std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(value);
    return;
  }
  out += '"';
  for (const char c : value) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
}

void append_seconds(std::string& out, std::chrono::nanoseconds offset) {
  fmt::format_to(std::back_inserter(out), "{:.6f}", static_cast<double>(offset.count()) / 1e9);
}

void append_ms(std::string& out, std::uint64_t ns) {
  fmt::format_to(std::back_inserter(out), "{:.3f}", static_cast<double>(ns) / 1e6);
}

std::string_view end_name(engine::RequestRecord::End end) {
  switch (end) {
    case engine::RequestRecord::End::ok: return "ok";
    case engine::RequestRecord::End::failed: return "failed";
    case engine::RequestRecord::End::aborted: return "aborted";
  }
  return "?";
}

}  // namespace

void append_request_row(std::string& out, const engine::RequestRecord& r, std::string_view pod) {
  append_field(out, r.phase);
  fmt::format_to(std::back_inserter(out), ",{},", r.vu);
  append_seconds(out, r.scheduled);
  out += ',';
  append_seconds(out, r.started);
  out += ',';
  if (r.first_byte) {
    append_seconds(out, *r.first_byte);
  }
  out += ',';
  if (r.first_event) {
    append_seconds(out, *r.first_event);
  }
  out += ',';
  if (r.ttft_ns) {
    append_ms(out, *r.ttft_ns);
  }
  out += ',';
  append_ms(out, r.e2e_ns);
  out += ',';
  if (r.http_status != 0) {
    fmt::format_to(std::back_inserter(out), "{}", r.http_status);
  }
  out += ',';
  out.append(end_name(r.end));
  out += ',';
  if (r.failure) {
    out.append(engine::to_string(*r.failure));
  }
  fmt::format_to(std::back_inserter(out), ",{},", r.output_tokens);
  append_field(out, r.endpoint);
  out += ',';
  append_field(out, pod);
  out += ',';
  if (r.good) {
    out += *r.good ? '1' : '0';
  }
  out += '\n';
}

util::Result<std::unique_ptr<RequestCsv>> RequestCsv::open(const std::filesystem::path& path) {
  auto file = util::StreamingFile::open(path);
  if (!file) {
    return util::fail(file.error());
  }
  (*file)->write(k_request_csv_header);
  return std::unique_ptr<RequestCsv>(new RequestCsv(std::move(*file)));
}

void RequestCsv::row(const engine::RequestRecord& record, std::string_view pod) {
  m_line.clear();
  append_request_row(m_line, record, pod);
  m_file->write(m_line);
  ++m_rows;
}

}  // namespace llmd::report
