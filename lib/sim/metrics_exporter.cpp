#include "sim/metrics_exporter.hpp"  // placeholder: being implemented
