#include "engine/request_state.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "engine/conversation.hpp"
#include "util/ascii_case.hpp"

namespace llmd::engine {

namespace {

long to_ms(std::chrono::nanoseconds duration) {
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(duration).count();
  return static_cast<long>(std::max<std::int64_t>(ms, 1));
}

long http_version(const TransferSettings& settings) {
  if (!settings.http2) {
    return CURL_HTTP_VERSION_1_1;
  }
  const bool tls = settings.url.size() >= 6 && (settings.url[4] == 's' || settings.url[4] == 'S');
  return tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
}

}  // namespace

util::Result<std::unique_ptr<RequestState>> RequestState::create(const TransferSettings& settings) {
  std::unique_ptr<RequestState> state(new RequestState(settings.stream));
  state->m_gaps_ns.reserve(std::min(settings.expected_tokens, k_reserved_gaps));
  state->m_budget = settings.budget;
  state->m_capture_text = settings.capture_text;
  for (const auto& name : settings.served_by_headers) {
    state->m_served_by_names.push_back(name);
  }
  if (!settings.libcurl_handle) {
    return state;
  }
  state->m_easy = curl_easy_init();
  if (state->m_easy == nullptr) {
    return util::fail("cannot create a request: curl_easy_init failed");
  }
  CURL* easy = state->m_easy;
  const CURLcode url_set = curl_easy_setopt(easy, CURLOPT_URL, settings.url.c_str());
  const CURLcode version_set = curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, http_version(settings));
  if (url_set != CURLE_OK || version_set != CURLE_OK) {
    return util::fail(fmt::format("cannot use URL \"{}\"{}: {}", settings.url, settings.http2 ? " with HTTP/2" : "",
                                  curl_easy_strerror(url_set != CURLE_OK ? url_set : version_set)));
  }
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  if (settings.receive_buffer_bytes > 0) {
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, settings.receive_buffer_bytes);
  }
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, to_ms(settings.connect_timeout));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, to_ms(settings.request_timeout));
  if (settings.http2) {
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);  // multiplex on an existing h2 connection
  }
  if (settings.insecure) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &RequestState::on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, state.get());
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &RequestState::on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, state.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, state->m_error_buffer.data());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, state.get());
  return state;
}

void RequestState::release_body() {
  release_budget();
  if (m_response.capacity() > k_kept_buffer_bytes) {
    std::string().swap(m_response);
  }
  m_response.clear();
}

void RequestState::release_budget() {
  if (m_budget != nullptr) {
    m_budget->used -= std::min(m_budget->used, m_budgeted);
  }
  m_budgeted = 0;
}

RequestState::~RequestState() {
  release_budget();
  if (m_easy != nullptr) {
    curl_easy_cleanup(m_easy);
  }
}

void RequestState::begin(curl_slist* headers, TimePoint scheduled, TimePoint started,
                         PhaseHistograms* sinks) {
  m_parser.reset();
  m_decoder.reset();
  release_budget();
  if (m_response.capacity() > k_kept_buffer_bytes) {
    std::string().swap(m_response);
  }
  m_response.clear();
  m_response_truncated = false;
  m_over_budget = false;
  m_problem.clear();
  m_mode = Mode::unknown;
  m_timing = RequestTiming{};
  m_timing.scheduled = scheduled;
  m_timing.started = started;
  m_gaps_ns.clear();
  m_text.clear();
  m_sinks = sinks;
  m_sent_ns = -1;
  m_code = CURLE_OK;
  m_status = 0;
  m_content_type = {};
  m_fast = false;
  m_headers = headers;
  transport = nullptr;
  m_request_sent = false;
  m_new_connections = 0;
  m_content_encoding_size = 0;
  m_retry_after_size = 0;
  m_served_by_size = 0;
  m_served_by_rank = SIZE_MAX;
  m_error_buffer[0] = '\0';
  if (m_easy == nullptr) {
    return;  // the built-in client's slot: it sends headers() and request_body() itself
  }
  curl_easy_setopt(m_easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(m_easy, CURLOPT_POSTFIELDS, m_body.data());
  curl_easy_setopt(m_easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(m_body.size()));
}

std::size_t RequestState::on_header(char* data, std::size_t size, std::size_t count, void* self) {
  auto* state = static_cast<RequestState*>(self);
  if (state->m_timing.first_byte == TimePoint{}) {
    state->m_timing.first_byte = Clock::now();
  }
  state->note_header(std::string_view(data, size * count));
  return size * count;
}

namespace {

std::string_view trimmed(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  return value;
}

}  // namespace

// A header line from libcurl ("Name: value\r\n"; the status line and the blank line have no colon).
void RequestState::note_header(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return;
  }
  note_field(line.substr(0, colon), trimmed(line.substr(colon + 1)));
}

// Keeps two header values, without allocating (their first bytes, in fixed buffers):
// Content-Encoding (we ask for none: a compressed body cannot be read as SSE, and the failure
// should say so) and Retry-After (how long a throttled user waits, engine/backoff.hpp).
void RequestState::note_field(std::string_view name, std::string_view value) {
  if (util::equals_ignoring_case(name, "content-encoding")) {
    m_content_encoding_size = std::min(value.size(), m_content_encoding.size());
    std::copy_n(value.begin(), m_content_encoding_size, m_content_encoding.begin());
  } else if (util::equals_ignoring_case(name, "retry-after")) {
    m_retry_after_size = std::min(value.size(), m_retry_after.size());
    std::copy_n(value.begin(), m_retry_after_size, m_retry_after.begin());
  } else if (!m_served_by_names.empty()) {
    note_served_by(name, value);
  }
}

// The endpoint named by the most preferred of TransferSettings::served_by_headers the response carries.
void RequestState::note_served_by(std::string_view name, std::string_view value) {
  for (std::size_t rank = 0; rank < m_served_by_names.size() && rank < m_served_by_rank; ++rank) {
    if (!util::equals_ignoring_case(name, m_served_by_names[rank])) {
      continue;
    }
    const std::string_view endpoint = endpoint_of(value);
    if (!endpoint.empty()) {
      m_served_by_size = std::min(endpoint.size(), m_served_by.size());
      std::copy_n(endpoint.begin(), m_served_by_size, m_served_by.begin());
      m_served_by_rank = rank;
    }
    return;
  }
}

void RequestState::fast_status(long status, TimePoint now) {
  if (m_timing.first_byte == TimePoint{}) {
    m_timing.first_byte = now;
  }
  m_status = status;
}

void RequestState::fast_field(std::string_view name, std::string_view value) {
  if (util::equals_ignoring_case(name, "content-type")) {
    m_fast_content_type.assign(value);
    m_content_type = m_fast_content_type;
    return;
  }
  note_field(name, value);
}

bool RequestState::fast_body(std::string_view bytes, TimePoint now) {
  m_now = now;
  return write(bytes) == bytes.size();
}

void RequestState::fast_end(std::string_view error, bool request_sent, bool new_connection) {
  const std::size_t size = std::min(error.size(), m_error_buffer.size() - 1);
  std::copy_n(error.begin(), size, m_error_buffer.begin());
  m_error_buffer[size] = '\0';
  m_request_sent = request_sent;
  m_new_connections = new_connection ? 1 : 0;
}

std::size_t RequestState::on_write(char* data, std::size_t size, std::size_t count, void* self) {
  auto* state = static_cast<RequestState*>(self);
  state->m_now = Clock::now();
  return state->write(std::string_view(data, size * count));
}

void RequestState::choose_mode() {
  if (!m_fast) {
    curl_easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &m_status);
  }
  m_mode = (m_stream && m_status >= 200 && m_status <= 299) ? Mode::sse : Mode::body;
}

std::size_t RequestState::write(std::string_view bytes) {
  if (m_mode == Mode::unknown) {
    choose_mode();
  }
  if (m_mode == Mode::sse) {
    if (auto fed = m_parser.feed(bytes); !fed) {
      if (m_problem.empty()) {
        m_problem = fed.error();
      }
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR), classified as malformed_event
    }
    return bytes.size();
  }
  const bool document = m_status >= 200 && m_status <= 299;  // choose_mode() read it
  const std::size_t limit = document ? k_max_document_bytes : k_max_error_body_bytes;
  std::size_t room = limit > m_response.size() ? limit - m_response.size() : 0;
  if (document && m_budget != nullptr) {
    const std::size_t left = m_budget->limit > m_budget->used ? m_budget->limit - m_budget->used : 0;
    if (std::min(room, bytes.size()) > left) {
      room = left;
      m_over_budget = true;
    }
    const std::size_t taken = std::min(room, bytes.size());
    m_budget->used += taken;
    m_budgeted += taken;
  }
  m_response.append(bytes.substr(0, room));
  m_response_truncated = m_response_truncated || bytes.size() > room;
  return bytes.size();
}

void RequestState::on_event(const sse::SseEvent& event) {
  if (m_timing.first_event == TimePoint{}) {
    m_timing.first_event = m_now;
  }
  const sse::OpenAiChunk chunk = m_decoder.decode(event.data);
  if (chunk.kind == sse::ChunkKind::content) {
    const bool first_token = m_timing.first_token == TimePoint{};
    if (first_token) {
      m_timing.first_token = m_now;
    } else {
      const std::uint64_t gap = elapsed_ns(m_timing.last_token, m_now);
      m_gaps_ns.push_back(gap);
      if (m_gap_watch != nullptr) {
        m_gap_watch->record(gap);
      }
    }
    m_timing.last_token = m_now;
    record_client_added(first_token);
    if (m_capture_text) {
      append_chunk_text(event.data, m_text);
    }
  } else if (chunk.kind == sse::ChunkKind::malformed && m_problem.empty()) {
    m_problem = chunk.problem;
  }
  m_sent_ns = -1;  // a stamp belongs to its own event block only
}

void RequestState::on_comment(std::string_view text) {
  constexpr std::string_view k_stamp = "llmd-sent-ns=";
  if (text.substr(0, k_stamp.size()) != k_stamp) {
    return;
  }
  const std::string_view digits = text.substr(k_stamp.size());
  std::int64_t sent_ns = -1;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), sent_ns);
  m_sent_ns = (error == std::errc() && end == digits.data() + digits.size() && sent_ns >= 0) ? sent_ns : -1;
}

void RequestState::record_client_added(bool first_token) {
  if (m_sent_ns < 0 || m_sinks == nullptr) {
    return;
  }
  const std::int64_t received_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(m_now.time_since_epoch()).count();
  const auto added_ns = static_cast<std::uint64_t>(std::max<std::int64_t>(received_ns - m_sent_ns, 0));
  (first_token ? m_sinks->ttft_client_added_ns : m_sinks->itl_client_added_ns).record(added_ns);
}

void RequestState::end(CURLcode code, TimePoint now) {
  m_timing.ended = now;
  m_code = code;
  if (!m_fast) {
    curl_easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &m_status);
    char* content_type = nullptr;
    curl_easy_getinfo(m_easy, CURLINFO_CONTENT_TYPE, &content_type);
    m_content_type = content_type != nullptr ? std::string_view(content_type) : std::string_view();
    long request_bytes = 0;
    curl_easy_getinfo(m_easy, CURLINFO_REQUEST_SIZE, &request_bytes);
    m_request_sent = request_bytes > 0;
    curl_easy_getinfo(m_easy, CURLINFO_NUM_CONNECTS, &m_new_connections);
  }
  if (m_mode == Mode::sse && !m_decoder.tally().done_seen) {
    // Lenient about a final "data: [DONE]" that lost only its blank line: the terminator is there.
    const sse::SseFinish pending = m_parser.finish();
    if (pending.event_pending && pending.pending_data == "[DONE]") {
      m_now = now;
      m_decoder.decode(pending.pending_data);
    }
  }
}

TransferFacts RequestState::facts() const {
  TransferFacts facts;
  facts.code = m_code;
  facts.curl_error = std::string_view(m_error_buffer.data());
  facts.request_sent = m_request_sent;
  facts.new_connections = m_new_connections;
  facts.http_status = m_status;
  facts.content_type = m_content_type;
  facts.content_encoding = std::string_view(m_content_encoding.data(), m_content_encoding_size);
  facts.retry_after = std::string_view(m_retry_after.data(), m_retry_after_size);
  facts.stream = m_stream;
  facts.tally = m_stream ? &m_decoder.tally() : nullptr;
  facts.inter_token_gaps_ns = m_gaps_ns;
  facts.stream_problem = m_problem;
  facts.body = m_response;
  facts.body_truncated = m_response_truncated;
  facts.body_over_budget = m_over_budget;
  if (m_served_by_size > 0) {
    facts.served_by = std::string_view(m_served_by.data(), m_served_by_size);
    facts.served_by_header = m_served_by_names[m_served_by_rank];

  }
  return facts;
}

}  // namespace llmd::engine
