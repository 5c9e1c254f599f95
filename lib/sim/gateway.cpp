#include "sim/gateway.hpp"

#include <algorithm>
#include <numeric>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/openai_api.hpp"
#include "sim/tokenizer.hpp"
#include "util/ascii_case.hpp"
#include "util/json_text.hpp"

namespace llmd::sim {

namespace {

constexpr std::size_t k_relay_buffer_bytes = 4 * 1024;  // SSE events are ~250 bytes; this is per open stream
constexpr std::size_t k_max_idle_per_pod = 1024;

// "host:port" -> "host"; "[::1]:80" -> "[::1]".
std::string_view strip_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    return host.substr(0, host.find(']') + 1);
  }
  const auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool is_generation(const Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  return request.method() == http::verb::post &&
         (target.starts_with("/v1/completions") || target.starts_with("/v1/chat/completions"));
}

// False only for a JSON object without a "model" string; a body that is not a JSON object goes on
// to the pod, which answers with vLLM's own error.
bool names_model(std::string_view body) {
  auto parsed = util::parse_json_bounded(body);
  if (!parsed || !parsed->is_object()) {
    return true;
  }
  const auto model = parsed->find("model");
  return model != parsed->end() && model->is_string();
}

// The endpoint picker's answer (llm-d-router pkg/common/error BuildErrResponse: the OpenAI error
// envelope; older gateway-api-inference-extension releases sent the plain text
// "inference error: BadRequest - model not found in request body").
constexpr std::string_view k_no_model_body =
    R"({"error":{"message":"model not found in request body","type":"invalid_request_error","code":400}})";

}  // namespace

struct Gateway::Upstream {
  explicit Upstream(net::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool reused = false;
};

Gateway::Gateway(net::io_context& io, const SimConfig& config, std::span<const std::unique_ptr<Pod>> pods,
                 std::function<nlohmann::json()> describe)
    : m_io(io),
      m_config(config),
      m_pods(pods),
      m_describe(std::move(describe)),
      m_server(io, "gateway", [this](Request& request, Connection& connection) { return handle(request, connection); }),
      m_router(config.route, pods.size(), config.prefix_index_blocks, config.session_timeout_s, config.seed),
      m_in_flight(pods.size(), 0),
      m_idle(pods.size()) {}

Gateway::~Gateway() = default;

util::Result<void> Gateway::listen(const std::string& address, std::uint16_t port) { return m_server.listen(address, port); }

void Gateway::start() { m_server.start(); }

void Gateway::stop() {
  m_server.stop();
  for (auto& idle : m_idle) {
    for (auto& upstream : idle) {
      close_connection(upstream->stream);
    }
    idle.clear();
  }
}

bool Gateway::host_allowed(const Request& request) const {
  if (m_config.host.empty()) {
    return true;
  }
  const auto host = request[http::field::host];
  return util::equals_ignoring_case(strip_port(std::string_view(host.data(), host.size())), strip_port(m_config.host));
}

net::awaitable<bool> Gateway::handle(Request& request, Connection& connection) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (path.starts_with("/admin/")) {
    co_return co_await handle_admin(request, connection, path);
  }
  if (!host_allowed(request)) {
    // Envoy's answer when no virtual host matches: 404 with an empty body.
    co_await write_response(connection.stream, request, http::status::not_found, "", "");
    co_return true;
  }
  if (path == "/reset_prefix_cache") {
    // Not routed: a reset goes to each pod directly (pod IP, or the API server's pod proxy), as in a
    // cluster whose HTTPRoute sends only the OpenAI paths to the pool. Envoy's 404 has no body.
    co_await write_response(connection.stream, request, http::status::not_found, "", "");
    co_return true;
  }
  if (m_config.gateway_requires_model && is_generation(request) && !names_model(request.body())) {
    co_await write_response(connection.stream, request, http::status::bad_request, "application/json", std::string(k_no_model_body));
    co_return true;
  }
  co_return co_await forward(request, connection, pick_pod(request, connection));
}

std::size_t Gateway::pick_pod(const Request& request, const Connection& connection) {
  std::vector<BlockHash> blocks;
  const std::string_view target(request.target().data(), request.target().size());
  const bool generation = is_generation(request);
  if (generation && m_config.route == RoutePolicy::prefix) {
    // The real EPP parses the body too. A body the pods will reject is routed without a prefix.
    const Api api = target.starts_with("/v1/chat") ? Api::chat : Api::completions;
    if (auto parsed = parse_generation_request(api, request.body(), m_config.pod)) {
      blocks = block_hashes(tokenize(parsed->prompt_text, m_config.pod.tokenizer_piece_bytes), m_config.pod.block_size_tokens);
    }
  }
  std::string session_key;
  if (const auto header = request.find(m_config.session_header); header != request.end()) {
    session_key = std::string(header->value());
  } else {
    session_key = connection.remote.address().to_string();
  }
  if (!generation) {
    // Health, model list, /tokenize, /detokenize (the pods' tokenizers are identical and share one
    // vocabulary): any pod will do; don't disturb the routing state (no prefix-index entry).
    return static_cast<std::size_t>(std::min_element(m_in_flight.begin(), m_in_flight.end()) - m_in_flight.begin());
  }
  return m_router.choose(RouteInput{blocks, session_key}, m_in_flight, Router::Clock::now()).pod;
}

net::awaitable<std::unique_ptr<Gateway::Upstream>> Gateway::acquire(std::size_t pod) {
  auto& idle = m_idle[pod];
  if (!idle.empty()) {
    auto upstream = std::move(idle.back());
    idle.pop_back();
    upstream->reused = true;
    co_return upstream;
  }
  auto upstream = std::make_unique<Upstream>(m_io);
  const tcp::endpoint endpoint(net::ip::make_address(m_config.bind_address), m_pods[pod]->port());
  co_await upstream->stream.async_connect(endpoint, net::use_awaitable);
  upstream->stream.socket().set_option(tcp::no_delay(true));
  co_return upstream;
}

net::awaitable<bool> Gateway::forward(Request& request, Connection& connection, std::size_t pod) {
  ++m_in_flight[pod];
  struct Release {
    std::size_t& count;
    ~Release() { --count; }
  } release{m_in_flight[pod]};

  std::unique_ptr<Upstream> upstream;
  std::optional<http::response_parser<http::buffer_body>> parser;
  for (int attempt = 0; attempt < 2 && !upstream; ++attempt) {
    boost::system::error_code ec;
    std::unique_ptr<Upstream> candidate;
    try {
      candidate = co_await acquire(pod);
      co_await http::async_write(candidate->stream, request, net::use_awaitable);
      parser.emplace();
      // Not boost::none: Boost 1.74 compares the length against an empty optional and fails.
      parser->body_limit(std::numeric_limits<std::uint64_t>::max());
      co_await http::async_read_header(candidate->stream, candidate->buffer, *parser, net::use_awaitable);
      upstream = std::move(candidate);
    } catch (const boost::system::system_error& error) {
      ec = error.code();
    }
    if (!upstream && (attempt == 1 || !candidate || !candidate->reused)) {
      // 502 as Envoy answers when the upstream connection fails before a response.
      co_await write_response(connection.stream, request, http::status::bad_gateway, "text/plain",
                              fmt::format("upstream connect error to {}: {}", m_pods[pod]->name(), ec.message()));
      co_return true;
    }
    // else: a stale pooled connection (the pod closed it); try once more on a fresh one.
  }

  auto& message = parser->get();
  message.keep_alive(request.keep_alive());
  if (m_config.endpoint_header) {  // as Envoy's response_headers_to_add with %UPSTREAM_HOST%
    const bool v6 = m_config.bind_address.find(':') != std::string::npos;
    const auto port = m_pods[pod]->port();
    message.set(k_endpoint_served_header, v6 ? fmt::format("[{}]:{}", m_config.bind_address, port)
                                             : fmt::format("{}:{}", m_config.bind_address, port));
  }
  http::response_serializer<http::buffer_body> serializer{message};
  std::array<char, k_relay_buffer_bytes> buffer{};
  do {
    boost::system::error_code ec;
    if (!parser->is_done()) {
      message.body().data = buffer.data();
      message.body().size = buffer.size();
      co_await http::async_read_some(upstream->stream, upstream->buffer, *parser, net::redirect_error(net::use_awaitable, ec));
      if (ec == http::error::need_buffer) {
        ec = {};
      }
      if (ec) {
        // The pod cut the stream: cut the client's too (Envoy resets the downstream stream).
        close_connection(connection.stream);
        close_connection(upstream->stream);
        co_return false;
      }
      message.body().size = buffer.size() - message.body().size;
      if (message.body().size == 0 && !parser->is_done()) {
        continue;  // only framing (a chunk header) was read; an empty buffer would end the chunked body
      }
      // No bytes (the pod's last chunk alone): no buffer, or Beast's chunked serializer writes an empty
      // chunk, "0\r\n\r\n", before its own last chunk: a second terminator on a kept-alive connection.
      message.body().data = message.body().size > 0 ? buffer.data() : nullptr;
      message.body().more = !parser->is_done();
    } else {
      message.body().data = nullptr;
      message.body().size = 0;
      message.body().more = false;
    }
    co_await http::async_write(connection.stream, serializer, net::redirect_error(net::use_awaitable, ec));
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      close_connection(upstream->stream);  // the client left: the pod sees its stream end too
      co_return false;
    }
  } while (!parser->is_done() || !serializer.is_done());

  if (parser->keep_alive() && m_idle[pod].size() < k_max_idle_per_pod) {
    upstream->buffer.clear();
    m_idle[pod].push_back(std::move(upstream));
  } else {
    close_connection(upstream->stream);
  }
  co_return true;
}

net::awaitable<bool> Gateway::handle_admin(Request& request, Connection& connection, std::string_view path) {
  constexpr std::string_view k_json = "application/json";
  if (path == "/admin/pods" && request.method() == http::verb::get) {
    co_await write_response(connection.stream, request, http::status::ok, k_json, util::dump_json(m_describe()));
    co_return true;
  }
  // POST /admin/pods/{index or name}/restart
  constexpr std::string_view prefix = "/admin/pods/";
  constexpr std::string_view suffix = "/restart";
  if (request.method() == http::verb::post && path.starts_with(prefix) && path.ends_with(suffix) &&
      path.size() > prefix.size() + suffix.size()) {
    const std::string_view which = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
    for (const auto& pod : m_pods) {
      if (which == pod->name() || which == std::to_string(pod->index())) {
        pod->restart();
        co_await write_response(connection.stream, request, http::status::ok, k_json, util::dump_json(pod->state()));
        co_return true;
      }
    }
    const std::string body = util::dump_json(nlohmann::json::object(
        {{"detail", fmt::format("no pod \"{}\": use an index 0..{} or a name sim-pod-N", which, m_pods.size() - 1)}}));
    co_await write_response(connection.stream, request, http::status::not_found, k_json, body);
    co_return true;
  }
  co_await write_response(connection.stream, request, http::status::not_found, k_json, R"({"detail":"Not Found"})");
  co_return true;
}

}  // namespace llmd::sim
