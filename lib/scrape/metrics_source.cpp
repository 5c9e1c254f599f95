#include "scrape/metrics_source.hpp"

namespace llmd::scrape {

MetricsSource::~MetricsSource() = default;

std::vector<std::string> MetricsSource::notes() const { return {}; }

}  // namespace llmd::scrape
