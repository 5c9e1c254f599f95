// report::append_request_row / RequestCsv: the per-request CSV of `run --out csv=FILE`. A real
// run: test/integration/request_csv_test.cpp.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/request_csv.hpp"
#include "support/scratch_dir.hpp"

namespace llmd::report {
namespace {

using namespace std::chrono_literals;

TEST(RequestCsv, AnOkRowHasEveryColumnInItsUnit) {
  engine::RequestRecord r;
  r.phase = "warm";
  r.vu = 3;
  r.scheduled = 1500ms;
  r.started = 1501ms;
  r.first_byte = 1520ms;
  r.first_event = 1530ms;
  r.ended = 2s;
  r.ttft_ns = 29'500'000;
  r.e2e_ns = 499'000'000;
  r.http_status = 200;
  r.output_tokens = 16;
  r.endpoint = "10.0.0.5:8000";
  std::string row;
  append_request_row(row, r, "vllm-0");
  EXPECT_EQ(row, "warm,3,1.500000,1.501000,1.520000,1.530000,29.500,499.000,200,ok,,16,10.0.0.5:8000,vllm-0,\n");
  r.good = true;
  row.clear();
  append_request_row(row, r, "vllm-0");
  EXPECT_THAT(row, testing::EndsWith(",vllm-0,1\n"));
  r.good = false;
  row.clear();
  append_request_row(row, r, "vllm-0");
  EXPECT_THAT(row, testing::EndsWith(",vllm-0,0\n"));
}

TEST(RequestCsv, AFailedRowLeavesWhatDidNotHappenEmptyAndQuotesFields) {
  engine::RequestRecord r;
  r.phase = "ramp, \"fast\"";
  r.end = engine::RequestRecord::End::failed;
  r.failure = engine::FailureClass::connect;
  r.e2e_ns = 1'000'000;
  std::string row;
  append_request_row(row, r, "");
  EXPECT_EQ(row, "\"ramp, \"\"fast\"\"\",0,0.000000,0.000000,,,,1.000,,failed,connect,0,,,\n");
  r.end = engine::RequestRecord::End::aborted;
  r.failure.reset();
  row.clear();
  append_request_row(row, r, "");
  EXPECT_THAT(row, testing::HasSubstr(",aborted,,"));
}

TEST(RequestCsv, TheFileHasTheHeaderAndOneLinePerRow) {
  const auto dir = test::scratch_dir();
  auto csv = RequestCsv::open(dir / "r.csv");
  ASSERT_TRUE(csv) << csv.error();
  engine::RequestRecord r;
  r.phase = "p";
  for (int i = 0; i < 3; ++i) {
    (*csv)->row(r, "pod");
  }
  EXPECT_EQ((*csv)->rows(), 3u);
  ASSERT_TRUE((*csv)->commit());
  std::ifstream in(dir / "r.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line + "\n", k_request_csv_header);
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 14) << line;
  }
  EXPECT_EQ(rows, 3);
}

}  // namespace
}  // namespace llmd::report
