#include "scrape/file_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "scrape/scrape_test_support.hpp"
#include "support/scratch_dir.hpp"

namespace llmd::scrape {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = llmd::test::scratch_dir();
  }
  void TearDown() override { fs::remove_all(m_dir); }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path path = m_dir / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  fs::path m_dir;
};

std::vector<std::string> pods_of(const FileSource& source) {
  std::vector<std::string> pods;
  for (const PodFile& file : source.files()) {
    pods.push_back(file.pod);
  }
  return pods;
}

TEST_F(FileSourceTest, FolderGivesOnePodPerDumpSortedByName) {
  const std::string text = sim::render_metrics(testing::sample_pod_metrics(), sim::MetricsFlavor::v0_10);
  write("decode-1.prom", text);
  write("decode-0.txt", text);
  write("README.md", "not a dump");
  auto source = FileSource::open({m_dir});
  ASSERT_TRUE(source) << source.error();
  EXPECT_THAT(pods_of(*source), ElementsAre("decode-0", "decode-1"));
  EXPECT_EQ(source->describe(), "saved metrics dumps of 2 pods (" + m_dir.string() + ")");
  const auto scrapes = source->scrape_all();
  ASSERT_EQ(scrapes.size(), 2u);
  ASSERT_TRUE(scrapes[1].text);
  EXPECT_EQ(*scrapes[1].text, text);
  EXPECT_EQ(scrapes[1].source, (m_dir / "decode-1.prom").string());
  const auto results = snapshot_pods(scrapes, "");
  ASSERT_TRUE(results[0].snapshot);
  EXPECT_EQ(results[0].snapshot->flavor, CounterFlavor::v1_both_names);
}

TEST_F(FileSourceTest, ExplicitFilesKeepAnyExtension) {
  const fs::path a = write("pod-a.metrics", "");
  auto source = FileSource::open({a, fs::path(LLMD_TEST_FIXTURES) / "metrics/vllm-v0.11.0-V1-issue28924-cache_config_info.txt"});
  ASSERT_TRUE(source) << source.error();
  EXPECT_THAT(pods_of(*source), ElementsAre("pod-a", "vllm-v0.11.0-V1-issue28924-cache_config_info"));
  const auto results = snapshot_pods(source->scrape_all(), "");
  ASSERT_TRUE(results[1].snapshot);
  EXPECT_EQ(results[1].snapshot->block_size_tokens, 16u);
}

TEST_F(FileSourceTest, MissingPathIsAnError) {
  const fs::path missing = m_dir / "nope.txt";
  auto source = FileSource::open({missing});
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error(), "metrics dump \"" + missing.string() +
                                "\" does not exist: expected a <pod>.txt or <pod>.prom file, or a folder of them");
}

TEST_F(FileSourceTest, FolderWithoutDumpsIsAnError) {
  write("notes.md", "x");
  auto source = FileSource::open({m_dir});
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error(), "folder \"" + m_dir.string() + "\" holds no <pod>.txt or <pod>.prom files");
}

TEST_F(FileSourceTest, TwoDumpsOfOnePodAreAnError) {
  write("p.txt", "");
  write("p.prom", "");
  auto source = FileSource::open({m_dir});
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error(), "pod \"p\" has two metrics dumps: \"" + (m_dir / "p.prom").string() + "\" and \"" +
                                (m_dir / "p.txt").string() + "\": keep one");
}

TEST_F(FileSourceTest, NoPathsIsAnError) {
  auto source = FileSource::open({});
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error(), "no metrics dump given: expected <pod>.txt or <pod>.prom files, or a folder of them");
}

TEST_F(FileSourceTest, FileRemovedAfterOpenIsAPodError) {
  const fs::path path = write("gone.txt", "");
  auto source = FileSource::open({path});
  ASSERT_TRUE(source);
  fs::remove(path);
  const auto scrapes = source->scrape_all();
  ASSERT_FALSE(scrapes[0].text);
  EXPECT_EQ(scrapes[0].text.error(),
            "pod gone (" + path.string() + "): cannot read the file: No such file or directory");
}

}  // namespace
}  // namespace llmd::scrape
