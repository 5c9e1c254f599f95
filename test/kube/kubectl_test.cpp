#include "kube/kubectl.hpp"

#include <gtest/gtest.h>

namespace llmd::kube {
namespace {

using namespace std::chrono_literals;

TEST(KubectlShellQuote, LeavesPlainWordsAndQuotesTheRest) {
  EXPECT_EQ(shell_quote("llm-d.ai/role=decode"), "llm-d.ai/role=decode");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(display_command({"kubectl", "-l", "app in (a,b)", "x;rm"}), "kubectl -l 'app in (a,b)' 'x;rm'");
}

TEST(Kubectl, AddsTargetFlagsBeforeTheArguments) {
  const Kubectl kubectl(KubeTarget{"kubectl", "/tmp/kc", "prod", "llm-d"});
  EXPECT_EQ(kubectl.argv({"get", "pods"}),
            (std::vector<std::string>{"kubectl", "--kubeconfig=/tmp/kc", "--context=prod", "--namespace=llm-d", "get",
                                      "pods"}));
  EXPECT_EQ(Kubectl(KubeTarget{}).argv({"version"}), (std::vector<std::string>{"kubectl", "version"}));
}

TEST(Kubectl, PassesArgumentsVerbatimWithoutAShell) {
  const Kubectl kubectl(KubeTarget{"/bin/echo", "", "", ""});
  auto output = kubectl.run({"a b", "$(touch /tmp/llmd-never)", "x;y"});
  ASSERT_TRUE(output.has_value()) << output.error();
  EXPECT_EQ(*output, "a b $(touch /tmp/llmd-never) x;y\n");
}

TEST(Kubectl, NonZeroExitQuotesTheCommandAndStderr) {
  const Kubectl kubectl(KubeTarget{"/bin/ls", "", "", ""});
  auto output = kubectl.run({"/nonexistent dir"});
  ASSERT_FALSE(output.has_value());
  EXPECT_EQ(output.error(),
            "`/bin/ls '/nonexistent dir'` exited with 2: /bin/ls: cannot access '/nonexistent dir': No such file or "
            "directory");
}

TEST(Kubectl, KillsACallThatOutlivesItsTimeout) {
  const Kubectl kubectl(KubeTarget{"/bin/sleep", "", "", ""}, 200ms);
  auto output = kubectl.run({"30"});
  ASSERT_FALSE(output.has_value());
  EXPECT_EQ(output.error(), "`/bin/sleep 30` did not finish within 0.2 s and was killed: is the API server reachable?");
}

TEST(Kubectl, MissingProgramSaysHowToInstallIt) {
  const Kubectl kubectl(KubeTarget{"/nonexistent/kubectl", "", "", ""});
  auto output = kubectl.run({"get", "pods"});
  ASSERT_FALSE(output.has_value());
  EXPECT_EQ(output.error(),
            "cannot run `/nonexistent/kubectl get pods`: No such file or directory: is kubectl "
            "installed and on PATH? (Debian package kubectl)");
}

TEST(Kubectl, RunCaptureKeepsExitCodeAndBothStreams) {
  const Kubectl kubectl(KubeTarget{"/bin/sh", "", "", ""});
  auto output = kubectl.run_capture({"-c", "echo out; echo err >&2; exit 7"});
  ASSERT_TRUE(output.has_value()) << output.error();
  EXPECT_EQ(output->exit_code, 7);
  EXPECT_EQ(output->out, "out\n");
  EXPECT_EQ(output->err, "err\n");
  EXPECT_EQ(describe_failure(*output), "`/bin/sh -c 'echo out; echo err >&2; exit 7'` exited with 7: err");
}

}  // namespace
}  // namespace llmd::kube
