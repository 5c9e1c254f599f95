#include "report/tekton_results.hpp"

#include <optional>

#include <fmt/format.h>

#include "util/atomic_file.hpp"
#include "util/output_path.hpp"

namespace llmd::report {

namespace {

std::string fraction(const std::optional<double>& value) {
  return value ? fmt::format("{:.4f}", *value) : std::string("n/a");
}

util::Result<void> create_folder(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return util::fail(fmt::format("cannot create Tekton results folder \"{}\": {}", dir.string(), error.message()));
  }
  return {};
}

}  // namespace

std::vector<std::pair<std::string, std::string>> tekton_results(const RunReport& report) {
  std::optional<double> hit_rate;
  std::optional<double> max_pod_share;
  if (report.cache) {
    hit_rate = report.cache->totals.hit_rate;
    max_pod_share = report.cache->totals.max_pod_share;
  }
  return {{std::string(k_tekton_result_names[0]), fraction(hit_rate)},
          {std::string(k_tekton_result_names[1]), std::string(to_string(report.verdict))},
          {std::string(k_tekton_result_names[2]), fraction(max_pod_share)}};
}

util::Result<void> check_tekton_results(const std::filesystem::path& dir) {
  if (auto created = create_folder(dir); !created) {
    return created;
  }
  for (const auto& name : k_tekton_result_names) {
    if (auto writable = util::check_output_writable(dir / name); !writable) {
      return util::fail(fmt::format("Tekton result \"{}\": {}", (dir / name).string(), writable.error()));
    }
  }
  return {};
}

util::Result<void> write_tekton_results(const RunReport& report, const std::filesystem::path& dir) {
  if (auto created = create_folder(dir); !created) {
    return created;
  }
  for (const auto& [name, value] : tekton_results(report)) {
    if (auto written = util::write_file_atomically(dir / name, value); !written) {
      return util::fail(fmt::format("Tekton result \"{}\": {}", (dir / name).string(), written.error()));
    }
  }
  return {};
}

}  // namespace llmd::report
