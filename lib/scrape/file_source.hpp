#pragma once
// Saved /metrics dumps as a MetricsSource: files named after their pod (<pod>.txt or <pod>.prom;
// pod name = file stem), given one by one or as a folder holding them. Each scrape_all() reads the
// files again, so a folder rewritten between "before" and "after" is read twice as it is then.
#include <filesystem>
#include <string>
#include <vector>

#include "scrape/metrics_source.hpp"
#include "util/result.hpp"

namespace llmd::scrape {

struct PodFile {
  std::string pod;              // file stem, e.g. "decode-0" for ".../decode-0.prom"
  std::filesystem::path path;
};

class FileSource final : public MetricsSource {
 public:
  // Each path is a file (taken whatever its extension) or a folder whose *.txt / *.prom files are
  // taken (sorted by name; other files ignored). Fails, quoting the path, when a path does not
  // exist, a folder holds no such file, or two files give the same pod name.
  static util::Result<FileSource> open(const std::vector<std::filesystem::path>& paths);

  std::string describe() const override;
  std::vector<PodScrape> scrape_all() override;

  const std::vector<PodFile>& files() const { return m_files; }

 private:
  FileSource(std::vector<PodFile> files, std::vector<std::filesystem::path> roots);

  std::vector<PodFile> m_files;
  std::vector<std::filesystem::path> m_roots;  // the paths as given, for describe()
};

}  // namespace llmd::scrape
