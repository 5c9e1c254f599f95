#include "engine/http1_response.hpp"

#include <limits>
#include <new>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace llmd::engine {

namespace http = boost::beast::http;
using boost::beast::error_code;

namespace {

std::string_view view(boost::beast::string_view text) { return {text.data(), text.size()}; }

}  // namespace

// Beast's parser with its callbacks routed to the Http1Response (and from there to the listener).
class Http1Response::Parser final : public http::basic_parser<false> {
 public:
  explicit Parser(Http1Response& owner) : m_owner(owner) {
    eager(true);                    // header and body in one put()
    // The listener bounds what it keeps. Not boost::none: Beast 1.74 compares the content length
    // with the optional limit as `len > limit`, which is true for an empty optional.
    body_limit(std::numeric_limits<std::uint64_t>::max());
    header_limit(static_cast<std::uint32_t>(Http1Response::k_header_limit));
  }

 private:
  void on_request_impl(http::verb, boost::beast::string_view, boost::beast::string_view, int, error_code&) override {}

  void on_response_impl(int code, boost::beast::string_view, int, error_code&) override {
    // 1xx (but 101, which ends HTTP on the connection) announce the final response to come.
    m_owner.m_interim = code >= 100 && code <= 199 && code != 101;
    m_code = static_cast<unsigned>(code);
  }

  void on_field_impl(http::field, boost::beast::string_view name, boost::beast::string_view value,
                     error_code&) override {
    if (!m_owner.m_interim) {
      m_owner.m_listener.on_field(view(name), view(value));
    }
  }

  // The status counts once the whole header is in: whether Beast parsed the status line before
  // the rest depends on how the bytes were split, and a response whose header never ends (too
  // large, cut) must be reported alike whatever the split.
  void on_header_impl(error_code&) override {
    if (m_owner.m_interim) {
      m_owner.m_interim_status = m_code;
    } else {
      m_owner.m_status = m_code;
      m_owner.m_listener.on_status(m_owner.m_status);
    }
  }
  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}

  std::size_t on_body_impl(boost::beast::string_view body, error_code& ec) override { return deliver(body, ec); }

  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, error_code& ec) override {
    return deliver(body, ec);
  }

  void on_finish_impl(error_code&) override {}

  std::size_t deliver(boost::beast::string_view body, error_code& ec) {
    if (!m_owner.m_listener.on_body(view(body))) {
      m_owner.m_rejected = true;
      ec = http::error::body_limit;  // stops the parse; feed() reports `rejected`
      return 0;
    }
    return body.size();
  }

  Http1Response& m_owner;
  unsigned m_code = 0;  // the status line's code, until the header is complete
};

Http1Response::Http1Response(Http1Listener& listener) : m_listener(listener) { start_parser(); }

Http1Response::~Http1Response() = default;

// A fresh Beast parser (it has no reset) in the same storage: a kept-alive connection allocates
// nothing per response.
void Http1Response::start_parser() {
  if (!m_parser) {
    m_parser = std::make_unique<Parser>(*this);
    return;
  }
  m_parser->~Parser();
  ::new (static_cast<void*>(m_parser.get())) Parser(*this);
}

void Http1Response::reset() {
  start_parser();
  m_status = 0;
  m_interim_status = 0;
  m_rejected = false;
  m_interim = false;
  m_any = false;
  m_error.clear();
}

Http1Response::Fed Http1Response::feed(std::string_view bytes) {
  Fed fed;
  if (!m_error.empty()) {
    fed.state = State::error;
    return fed;
  }
  while (fed.consumed < bytes.size()) {
    error_code ec;
    const std::string_view rest = bytes.substr(fed.consumed);
    const std::size_t used = m_parser->put(boost::asio::const_buffer(rest.data(), rest.size()), ec);
    fed.consumed += used;
    m_any = m_any || used > 0;
    if (m_rejected) {
      fed.state = State::rejected;
      return fed;
    }
    if (ec == http::error::need_more) {
      fed.state = State::more;
      return fed;
    }
    if (ec) {
      m_error = ec.message();
      fed.state = State::error;
      return fed;
    }
    if (m_parser->is_done()) {
      if (!m_interim) {
        fed.state = State::done;
        return fed;
      }
      start_parser();  // an interim 1xx: the final response follows
      m_interim = false;
      continue;
    }
    if (used == 0) {
      fed.state = State::more;
      return fed;
    }
  }
  fed.state = m_parser->is_done() && !m_interim ? State::done : State::more;
  return fed;
}

Http1Response::State Http1Response::finish() {
  if (!m_error.empty()) {
    return State::error;
  }
  if (m_parser->is_done() && !m_interim) {
    return State::done;
  }
  error_code ec;
  m_parser->put_eof(ec);
  if (m_rejected) {
    return State::rejected;
  }
  if (!ec && m_parser->is_done()) {
    return State::done;
  }
  m_error = ec ? ec.message() : "the connection closed before the response ended";
  return State::error;
}

bool Http1Response::keep_alive() const { return m_parser->is_done() && m_parser->keep_alive(); }

bool Http1Response::got_some() const { return m_any; }

}  // namespace llmd::engine
