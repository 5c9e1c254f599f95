#pragma once
// A fake Kubernetes API server for tests that run the REAL kubectl on 127.0.0.1 (never a real
// cluster). One thread per connection, synchronous Boost.Beast. It serves what kubectl 1.32 asks:
//   GET /version, /api, /apis, /api/v1        legacy (non-aggregated) discovery: kubectl falls back
//   GET /api/v1/namespaces/NS/pods?labelSelector=...   equality/inequality/existence selectors
//   GET, DELETE /api/v1/namespaces/NS/pods/NAME         DELETE restarts the backing sim pod
//   GET, POST /api/v1/namespaces/NS/pods/NAME[:PORT]/proxy/PATH  forwarded (method, body) to the sim pod when PORT is
//        the pod's metrics port, else 503 "connection refused" as from a real API server
//   GET /apis/apps/v1, GET replicasets/NAME, GET/PATCH deployments/NAME (fake_kube_apps.cpp): enough
//        for `kubectl rollout restart deployment/NAME`, which restarts the pods of its ReplicaSet
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace llmd::kube::test {

struct FakePod {
  std::string name;
  std::string namespace_name = "llm-d";
  std::map<std::string, std::string> labels = {{"llm-d.ai/role", "decode"}};
  std::string phase = "Running";
  bool ready = true;
  std::string container = "vllm";
  std::uint16_t metrics_port = 8200;  // the one port the pod proxy reaches (containerPort)
  std::string backend_url;            // sim pod base URL, e.g. http://127.0.0.1:39603 ("" = nothing listens)
  std::string owner_kind = "ReplicaSet";
  std::string owner_name = "decode-5d8f9c";
  // Kept by the server:
  std::string uid;  // changes on every DELETE (a replacement pod)
  int deletions = 0;
  int not_ready_lists = 0;  // the next N pod lists show this pod Running but not Ready
};

class FakeKubeApi {
 public:
  explicit FakeKubeApi(std::vector<FakePod> pods);
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;
  ~FakeKubeApi();

  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  // Writes a kubeconfig (cluster "fake" at url(), no auth, context "fake" with namespace
  // `context_namespace`) to DIR/kubeconfig and returns its path.
  std::string write_kubeconfig(const std::string& dir, const std::string& context_namespace = "llm-d") const;

  // A Deployment owning ReplicaSet `replica_set` (the owner_name of its pods).
  void add_deployment(const std::string& name, const std::string& replica_set);
  // PATCHes received for deployment `name` (kubectl rollout restart sends one).
  int rollouts(const std::string& name) const;

  // After a DELETE, the replacement shows as not Ready for this many pod lists (default 1).
  void set_not_ready_lists_after_delete(int lists) { m_not_ready_after_delete = lists; }

  FakePod pod(const std::string& name) const;
  // A pod created (scale-up, a replacement under a new name) or gone, as the next list shows it.
  void add_pod(FakePod pod);
  void remove_pod(const std::string& name);
  // "METHOD TARGET" of every request, in order.
  std::vector<std::string> requests() const;

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  void accept_loop();
  void serve(std::shared_ptr<boost::asio::ip::tcp::socket> socket);
  Response handle(const Request& request);
  Response pods_route(const Request& request, const std::string& ns, const std::string& rest);
  Response list_pods(const std::string& ns, const std::string& query);
  Response proxy(const Request& request, const std::string& ns, const std::string& name_port, const std::string& path);
  Response delete_pod(const std::string& ns, const std::string& name);
  Response apps_route(const Request& request, const std::string& path);
  void replace_pod(FakePod& pod, std::vector<std::string>& backends);  // m_mutex held; backends to restart after
  FakePod* find(const std::string& ns, const std::string& name);

  struct FakeDeployment {
    std::string name;
    std::string replica_set;
    int rollouts = 0;
  };

  boost::asio::io_context m_io;
  boost::asio::ip::tcp::acceptor m_acceptor;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stopping{false};
  int m_not_ready_after_delete = 1;
  mutable std::mutex m_mutex;  // guards m_pods, m_requests, m_sockets, m_threads
  std::vector<FakePod> m_pods;
  std::vector<FakeDeployment> m_deployments;
  std::vector<std::string> m_requests;
  std::vector<std::weak_ptr<boost::asio::ip::tcp::socket>> m_sockets;
  std::vector<std::thread> m_threads;
  std::thread m_accept_thread;
  int m_next_uid = 1;
};

// A plain HTTP/1.1 request to 127.0.0.1 (the sim's pods): {status, body}; status 0 when unreachable.
struct PlainAnswer {
  int status = 0;
  std::string body;
};
PlainAnswer plain_http(const std::string& method, const std::string& url, const std::string& body = "");

namespace detail {
// An API answer with a JSON (or given) content type; a Kubernetes Status object.
boost::beast::http::response<boost::beast::http::string_body> answer(boost::beast::http::status status,
                                                                     const std::string& body,
                                                                     const std::string& type = "application/json");
nlohmann::json status_json(int code, const std::string& reason, const std::string& message);
}  // namespace detail

}  // namespace llmd::kube::test
