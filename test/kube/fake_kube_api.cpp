#include "kube/fake_kube_api.hpp"

#include <fstream>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <nlohmann/json.hpp>

#include "support/url_codec.hpp"

namespace llmd::kube::test {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using detail::answer;
using detail::status_json;
using llmd::test::url_decode;
using nlohmann::json;

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) {
    parts.push_back(part);
  }
  return parts;
}

std::string query_param(const std::string& query, const std::string& key) {
  for (const std::string& pair : split(query, '&')) {
    if (pair.rfind(key + "=", 0) == 0) {
      return url_decode(pair.substr(key.size() + 1));
    }
  }
  return {};
}

// kubectl -l syntax, equality-based: k=v, k==v, k!=v, k, !k (comma = and).
bool matches(const std::map<std::string, std::string>& labels, const std::string& selector) {
  for (const std::string& term : split(selector, ',')) {
    if (term.empty()) {
      continue;
    }
    const auto not_equal = term.find("!=");
    const auto equal = term.find('=');
    if (not_equal != std::string::npos) {
      auto it = labels.find(term.substr(0, not_equal));
      if (it != labels.end() && it->second == term.substr(not_equal + 2)) {
        return false;
      }
    } else if (equal != std::string::npos) {
      const std::size_t value_at = term.compare(equal, 2, "==") == 0 ? equal + 2 : equal + 1;
      auto it = labels.find(term.substr(0, equal));
      if (it == labels.end() || it->second != term.substr(value_at)) {
        return false;
      }
    } else if (term[0] == '!') {
      if (labels.count(term.substr(1)) != 0) {
        return false;
      }
    } else if (labels.count(term) == 0) {
      return false;
    }
  }
  return true;
}

json pod_json(const FakePod& pod, bool ready) {
  json labels = json::object();
  for (const auto& [key, value] : pod.labels) {
    labels[key] = value;
  }
  json container = {
      {"name", pod.container},
      {"image", "vllm/vllm-openai:latest"},
      {"ports", json::array({{{"containerPort", pod.metrics_port}, {"name", "metrics"}, {"protocol", "TCP"}}})}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", pod.name},
            {"namespace", pod.namespace_name},
            {"uid", pod.uid},
            {"labels", labels},
            {"ownerReferences",
             json::array({{{"apiVersion", "apps/v1"}, {"kind", pod.owner_kind}, {"name", pod.owner_name}}})}}},
          {"spec", {{"containers", json::array({container})}}},
          {"status",
           {{"phase", pod.phase},
            {"podIP", "10.0.0.1"},
            {"conditions", json::array({{{"type", "Ready"},
                                         {"status", ready ? "True" : "False"},
                                         {"reason", ready ? "" : "ContainersNotReady"}}})}}}};
}

const json k_api_resources = {{"kind", "APIResourceList"},
                              {"groupVersion", "v1"},
                              {"resources", json::array({{{"name", "pods"},
                                                          {"singularName", "pod"},
                                                          {"namespaced", true},
                                                          {"kind", "Pod"},
                                                          {"verbs", json::array({"delete", "get", "list"})},
                                                          {"shortNames", json::array({"po"})}},
                                                         {{"name", "pods/proxy"},
                                                          {"singularName", ""},
                                                          {"namespaced", true},
                                                          {"kind", "PodProxyOptions"},
                                                          {"verbs", json::array({"create", "delete", "get"})}}})}};

}  // namespace

namespace detail {

json status_json(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
          {"status", "Failure"}, {"message", message}, {"reason", reason},
          {"code", code}};
}

http::response<http::string_body> answer(http::status status, const std::string& body, const std::string& type) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::content_type, type);
  response.body() = body;
  response.prepare_payload();
  return response;
}

}  // namespace detail

PlainAnswer plain_http(const std::string& method, const std::string& url, const std::string& body) {
  // url: http://127.0.0.1:PORT/PATH
  const std::string rest = url.substr(url.find("//") + 2);
  const std::string host_port = rest.substr(0, rest.find('/'));
  const std::string target = rest.find('/') == std::string::npos ? "/" : rest.substr(rest.find('/'));
  const auto colon = host_port.rfind(':');
  boost::asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code error;
  socket.connect({boost::asio::ip::make_address(host_port.substr(0, colon)),
                  static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1)))},
                 error);
  if (error) {
    return {};
  }
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, host_port);
  request.set(http::field::content_type, "application/json");
  request.body() = body;
  request.prepare_payload();
  http::write(socket, request, error);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response, error);
  if (error) {
    return {};
  }
  return {static_cast<int>(response.result_int()), response.body()};
}

FakeKubeApi::FakeKubeApi(std::vector<FakePod> pods) : m_acceptor(m_io), m_pods(std::move(pods)) {
  for (FakePod& pod : m_pods) {
    pod.uid = "uid-" + std::to_string(m_next_uid++);
  }
  const tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
  m_acceptor.open(endpoint.protocol());
  m_acceptor.set_option(tcp::acceptor::reuse_address(true));
  m_acceptor.bind(endpoint);
  m_acceptor.listen();
  m_port = m_acceptor.local_endpoint().port();
  m_accept_thread = std::thread([this] { accept_loop(); });
}

FakeKubeApi::~FakeKubeApi() {
  m_stopping = true;
  {
    boost::asio::io_context io;  // wake the blocking accept
    tcp::socket wake(io);
    boost::system::error_code ignored;
    wake.connect({boost::asio::ip::make_address("127.0.0.1"), m_port}, ignored);
  }
  m_accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m_mutex);
    for (auto& weak : m_sockets) {
      if (auto socket = weak.lock()) {
        boost::system::error_code ignored;
        socket->shutdown(tcp::socket::shutdown_both, ignored);
      }
    }
    threads = std::move(m_threads);
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
}

void FakeKubeApi::accept_loop() {
  while (!m_stopping) {
    auto socket = std::make_shared<tcp::socket>(m_io);
    boost::system::error_code error;
    m_acceptor.accept(*socket, error);
    if (error || m_stopping) {
      continue;
    }
    std::lock_guard lock(m_mutex);
    m_sockets.push_back(socket);
    m_threads.emplace_back([this, socket] { serve(socket); });
  }
}

void FakeKubeApi::serve(std::shared_ptr<tcp::socket> socket) {
  beast::flat_buffer buffer;
  for (;;) {
    Request request;
    boost::system::error_code error;
    http::read(*socket, buffer, request, error);
    if (error) {
      return;
    }
    {
      std::lock_guard lock(m_mutex);
      m_requests.push_back(std::string(request.method_string()) + " " + std::string(request.target()));
    }
    Response response = handle(request);
    response.keep_alive(request.keep_alive());
    http::write(*socket, response, error);
    if (error || !request.keep_alive()) {
      return;
    }
  }
}

FakeKubeApi::Response FakeKubeApi::handle(const Request& request) {
  const std::string target(request.target());
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/version") {
    return answer(http::status::ok, json{{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0-fake"}}.dump());
  }
  if (path == "/api") {
    return answer(
        http::status::ok,
        json{{"kind", "APIVersions"}, {"versions", json::array({"v1"})}, {"serverAddressByClientCIDRs", json::array()}}
            .dump());
  }
  if (path.rfind("/apis", 0) == 0) {
    return apps_route(request, path);
  }
  if (path == "/api/v1") {
    return answer(http::status::ok, k_api_resources.dump());
  }
  const std::string prefix = "/api/v1/namespaces/";
  if (path.rfind(prefix, 0) == 0) {
    const std::string after = path.substr(prefix.size());
    const auto slash = after.find('/');
    if (slash != std::string::npos) {
      return pods_route(request, after.substr(0, slash), target.substr(prefix.size() + slash));
    }
  }
  return answer(http::status::not_found,
                status_json(404, "NotFound", "the server could not find the requested resource").dump());
}

FakeKubeApi::Response FakeKubeApi::pods_route(const Request& request, const std::string& ns, const std::string& rest) {
  // rest: /pods?..., /pods/NAME, /pods/NAME[:PORT]/proxy/PATH
  const std::string path = rest.substr(0, rest.find('?'));
  const std::string query = rest.find('?') == std::string::npos ? "" : rest.substr(rest.find('?') + 1);
  if (path == "/pods" && request.method() == http::verb::get) {
    return list_pods(ns, query);
  }
  if (path.rfind("/pods/", 0) != 0) {
    return answer(http::status::not_found, status_json(404, "NotFound", "no such resource").dump());
  }
  const std::vector<std::string> parts = split(path.substr(6), '/');
  if (parts.size() >= 2 && parts[1] == "proxy") {
    std::string sub_path;
    for (std::size_t i = 2; i < parts.size(); ++i) {
      sub_path += "/" + parts[i];
    }
    return proxy(request, ns, parts[0], sub_path.empty() ? "/" : sub_path);
  }
  if (parts.size() == 1 && request.method() == http::verb::delete_) {
    return delete_pod(ns, parts[0]);
  }
  std::lock_guard lock(m_mutex);
  if (FakePod* pod = find(ns, parts[0]); pod != nullptr && parts.size() == 1) {
    return answer(http::status::ok, pod_json(*pod, pod->ready && pod->not_ready_lists == 0).dump());
  }
  return answer(http::status::not_found, status_json(404, "NotFound", "pods \"" + parts[0] + "\" not found").dump());
}

FakeKubeApi::Response FakeKubeApi::list_pods(const std::string& ns, const std::string& query) {
  const std::string selector = query_param(query, "labelSelector");
  json items = json::array();
  std::lock_guard lock(m_mutex);
  for (FakePod& pod : m_pods) {
    if (pod.namespace_name == ns && matches(pod.labels, selector)) {
      items.push_back(pod_json(pod, pod.ready && pod.not_ready_lists == 0));
      pod.not_ready_lists = std::max(0, pod.not_ready_lists - 1);
    }
  }
  return answer(
      http::status::ok,
      json{{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "1"}}}, {"items", items}}
          .dump());
}

FakeKubeApi::Response FakeKubeApi::proxy(const Request& request, const std::string& ns, const std::string& name_port,
                                         const std::string& path) {
  const auto colon = name_port.find(':');
  const std::string name = name_port.substr(0, colon);
  const int port = colon == std::string::npos ? 80 : std::stoi(name_port.substr(colon + 1));
  std::string backend;
  {
    std::lock_guard lock(m_mutex);
    FakePod* pod = find(ns, name);
    if (pod == nullptr) {
      return answer(http::status::not_found, status_json(404, "NotFound", "pods \"" + name + "\" not found").dump());
    }
    if (port == pod->metrics_port) {
      backend = pod->backend_url;
    }
  }
  const std::string method(request.method_string());
  PlainAnswer forwarded = backend.empty() ? PlainAnswer{} : plain_http(method, backend + path, request.body());
  if (forwarded.status == 0) {
    const std::string message =
        "error trying to reach service: dial tcp 10.0.0.1:" + std::to_string(port) + ": connect: connection refused";
    return answer(http::status::service_unavailable, status_json(503, "ServiceUnavailable", message).dump());
  }
  return answer(static_cast<http::status>(forwarded.status), forwarded.body,
                "text/plain; version=0.0.4; charset=utf-8");
}

void FakeKubeApi::replace_pod(FakePod& pod, std::vector<std::string>& backends) {
  pod.uid = "uid-" + std::to_string(m_next_uid++);  // the replacement
  pod.not_ready_lists = m_not_ready_after_delete;
  if (!pod.backend_url.empty()) {
    backends.push_back(pod.backend_url);
  }
}

FakeKubeApi::Response FakeKubeApi::delete_pod(const std::string& ns, const std::string& name) {
  std::vector<std::string> backends;
  json body;
  {
    std::lock_guard lock(m_mutex);
    FakePod* pod = find(ns, name);
    if (pod == nullptr) {
      return answer(http::status::not_found, status_json(404, "NotFound", "pods \"" + name + "\" not found").dump());
    }
    body = pod_json(*pod, false);
    pod->deletions += 1;
    replace_pod(*pod, backends);
  }
  for (const std::string& backend : backends) {
    plain_http("POST", backend + "/admin/restart");
  }
  return answer(http::status::ok, body.dump());
}

FakePod* FakeKubeApi::find(const std::string& ns, const std::string& name) {
  for (FakePod& pod : m_pods) {
    if (pod.namespace_name == ns && pod.name == name) {
      return &pod;
    }
  }
  return nullptr;
}

void FakeKubeApi::add_pod(FakePod pod) {
  std::lock_guard lock(m_mutex);
  pod.uid = "uid-" + std::to_string(m_next_uid++);
  m_pods.push_back(std::move(pod));
}

void FakeKubeApi::remove_pod(const std::string& name) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_pods, [&name](const FakePod& pod) { return pod.name == name; });
}

FakePod FakeKubeApi::pod(const std::string& name) const {
  std::lock_guard lock(m_mutex);
  for (const FakePod& pod : m_pods) {
    if (pod.name == name) {
      return pod;
    }
  }
  return {};
}

std::vector<std::string> FakeKubeApi::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

std::string FakeKubeApi::write_kubeconfig(const std::string& dir, const std::string& context_namespace) const {
  const std::string path = dir + "/kubeconfig";
  std::ofstream file(path);
  file << "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: " << url()
       << "\n    insecure-skip-tls-verify: true\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: "
          "fake\n"
       << "    namespace: " << context_namespace << "\ncurrent-context: fake\nusers:\n- name: fake\n  user: {}\n";
  return path;
}

}  // namespace llmd::kube::test
