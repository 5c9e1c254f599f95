#pragma once
// Headless Chromium for the tests of llmd-bench's HTML pages (html_report_test.cpp, sweep_run_test.cpp):
// Debian's chromium with every network request refused, the DOM after load, the page's console lines,
// and an attribute of an element in the dumped DOM.
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/child_process.hpp"

namespace llmd::test {

inline std::optional<std::string> find_chromium() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const auto candidate = std::filesystem::path(dir) / name;
      if (std::filesystem::exists(candidate)) {
        return candidate.string();
      }
    }
  }
  return std::nullopt;
}

// Headless Chromium on `page` with every network request refused (a dead proxy, no name
// resolution): the DOM after load on stdout, Chromium's log (console messages included) on stderr.
inline RunOutput chromium(const std::filesystem::path& page, const std::filesystem::path& profile,
                   std::vector<std::string> extra) {
  const auto binary = find_chromium();
  if (!binary) {
    ADD_FAILURE() << "chromium is not installed: scripts/setup.sh installs Debian's chromium";
    return {};
  }
  std::vector<std::string> argv = {*binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                   "--enable-logging=stderr", "--v=0", "--user-data-dir=" + profile.string(),
                                   "--proxy-server=socks5://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                                   "--window-size=1280,800"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("file://" + std::filesystem::absolute(page).string());
  return llmd::test::run_to_completion(argv, std::chrono::seconds(120));
}

// Chromium's log lines for the page's console (console.* and uncaught errors, CSP violations).
inline std::vector<std::string> console_lines(const std::string& log) {
  std::vector<std::string> lines;
  std::stringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(":CONSOLE") != std::string::npos) {
      lines.push_back(line);
    }
  }
  return lines;
}

inline std::string attribute(const std::string& dom, const std::string& element_pattern, const std::string& name) {
  const std::regex re(element_pattern + "[^>]*\\s" + name + "=\"([^\"]*)\"");
  std::smatch match;
  return std::regex_search(dom, match, re) ? match[1].str() : std::string("<absent>");
}

}  // namespace llmd::test
