#include "scrape/file_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include <fmt/format.h>

namespace llmd::scrape {

namespace fs = std::filesystem;

namespace {

bool is_dump_name(const fs::path& path) { return path.extension() == ".txt" || path.extension() == ".prom"; }

util::Result<std::vector<fs::path>> dumps_in_folder(const fs::path& folder) {
  std::error_code error;
  std::vector<fs::path> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, error)) {
    if (entry.is_regular_file(error) && is_dump_name(entry.path())) {
      found.push_back(entry.path());
    }
  }
  if (error) {
    return util::fail(fmt::format("cannot list folder \"{}\": {}", folder.string(), error.message()));
  }
  if (found.empty()) {
    return util::fail(fmt::format("folder \"{}\" holds no <pod>.txt or <pod>.prom files", folder.string()));
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Expands folders; files stay as given.
util::Result<std::vector<fs::path>> expand(const std::vector<fs::path>& paths) {
  std::vector<fs::path> files;
  for (const fs::path& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      auto inside = dumps_in_folder(path);
      if (!inside) {
        return util::fail(inside.error());
      }
      files.insert(files.end(), inside->begin(), inside->end());
    } else if (fs::exists(path, error)) {
      files.push_back(path);
    } else {
      return util::fail(fmt::format("metrics dump \"{}\" does not exist: expected a <pod>.txt or <pod>.prom file, "
                                    "or a folder of them",
                                    path.string()));
    }
  }
  if (files.empty()) {
    return util::fail("no metrics dump given: expected <pod>.txt or <pod>.prom files, or a folder of them");
  }
  return files;
}

util::Result<std::string> read_file(const PodFile& file) {
  std::ifstream in(file.path, std::ios::binary);
  std::ostringstream text;
  if (in) {
    text << in.rdbuf();
  }
  if (!in || in.bad()) {
    return util::fail(fmt::format("pod {} ({}): cannot read the file: {}", file.pod, file.path.string(),
                                  std::strerror(errno)));
  }
  return text.str();
}

}  // namespace

FileSource::FileSource(std::vector<PodFile> files, std::vector<fs::path> roots)
    : m_files(std::move(files)), m_roots(std::move(roots)) {}

util::Result<FileSource> FileSource::open(const std::vector<fs::path>& paths) {
  auto expanded = expand(paths);
  if (!expanded) {
    return util::fail(expanded.error());
  }
  std::map<std::string, fs::path> by_pod;
  std::vector<PodFile> files;
  for (const fs::path& path : *expanded) {
    const std::string pod = path.stem().string();
    if (const auto [it, inserted] = by_pod.emplace(pod, path); !inserted) {
      return util::fail(fmt::format("pod \"{}\" has two metrics dumps: \"{}\" and \"{}\": keep one", pod,
                                    it->second.string(), path.string()));
    }
    files.push_back({pod, path});
  }
  return FileSource(std::move(files), paths);
}

std::string FileSource::describe() const {
  std::vector<std::string> roots;
  for (const fs::path& root : m_roots) {
    roots.push_back(root.string());
  }
  return fmt::format("saved metrics dumps of {} pod{} ({})", m_files.size(), m_files.size() == 1 ? "" : "s",
                     fmt::join(roots, ", "));
}

std::vector<PodScrape> FileSource::scrape_all() {
  std::vector<PodScrape> scrapes;
  scrapes.reserve(m_files.size());
  for (const PodFile& file : m_files) {
    const auto started = std::chrono::steady_clock::now();
    PodScrape scrape{file.pod, file.path.string(), read_file(file), {}, std::chrono::system_clock::now()};
    scrape.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    std::error_code error;
    const fs::file_time_type written = fs::last_write_time(file.path, error);
    if (!error) {
      // The dump's own time: when it was saved, not when it is read.
      scrape.scraped_at = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
          std::chrono::file_clock::to_sys(written));
    }
    scrapes.push_back(std::move(scrape));
  }
  return scrapes;
}

}  // namespace llmd::scrape
