#pragma once
// The one way llmd-bench runs kubectl: an argv vector (never a shell line), the target's
// --kubeconfig/--context/--namespace flags added here, a timeout after which kubectl is killed,
// and stdout/stderr captured. The environment is inherited, so KUBECONFIG, HOME and PATH work as
// they do for kubectl on the command line.
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace llmd::kube {

// Which cluster and namespace a kubectl call addresses. Empty fields are not passed: kubectl then
// decides as usual (KUBECONFIG / ~/.kube/config, the current context, the context's namespace).
struct KubeTarget {
  std::string kubectl = "kubectl";  // program: a path, or a name looked up on PATH
  std::string kubeconfig;           // --kubeconfig=FILE
  std::string context;              // --context=NAME
  std::string namespace_name;       // --namespace=NS
};

// What one kubectl run produced.
struct KubectlOutput {
  int exit_code = -1;        // 0 on success; 128 + signal when killed by a signal
  std::string out;           // stdout
  std::string err;           // stderr
  std::string command_line;  // for humans: the argv shell-quoted (display only, never executed)
};

// Quotes `word` for display in a shell-like command line: unchanged when it holds only
// [A-Za-z0-9_./:=,@%+-], else in single quotes ('\'' for a quote inside).
std::string shell_quote(const std::string& word);
std::string display_command(const std::vector<std::string>& argv);

class Kubectl {
 public:
  explicit Kubectl(KubeTarget target, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const KubeTarget& target() const { return m_target; }
  std::chrono::milliseconds timeout() const { return m_timeout; }

  // Once `cancel` is set (Ctrl-C), a running kubectl is killed and the call fails with
  // "cancelled (Ctrl-C)"; calls made after that fail at once. nullptr: only the timeout applies.
  void set_cancel_flag(const std::atomic<bool>* cancel) { m_cancel = cancel; }

  // The full argv: kubectl, the target flags, then `args`.
  std::vector<std::string> argv(const std::vector<std::string>& args) const;

  // Runs kubectl with `args`. The error (kubectl missing, timeout) quotes the command line;
  // a non-zero exit is NOT an error here: check exit_code.
  util::Result<KubectlOutput> run_capture(const std::vector<std::string>& args) const;

  // run_capture(), and a non-zero exit becomes an error:
  // "`kubectl ... get pods` exited with 1: <kubectl's stderr, trimmed>".
  util::Result<std::string> run(const std::vector<std::string>& args) const;

 private:
  KubeTarget m_target;
  std::chrono::milliseconds m_timeout;
  const std::atomic<bool>* m_cancel = nullptr;
};

// "`CMD` exited with CODE: STDERR" (or "... and printed nothing on stderr").
std::string describe_failure(const KubectlOutput& output);

}  // namespace llmd::kube
