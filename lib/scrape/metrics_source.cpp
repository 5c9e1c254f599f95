#include "scrape/metrics_source.hpp"

namespace llmd::scrape {

MetricsSource::~MetricsSource() = default;

}  // namespace llmd::scrape
