#pragma once
// The summary's "routing" section (run/routing.hpp): per-pod table of the attributed requests,
// affinity and stickiness per prefix group (worst groups by name), load imbalance, routing
// efficiency, and a line per figure that could not be computed with why and what to enable.
#include <string>

#include "run/routing.hpp"

namespace llmd::report {

// A blank line, the title and the section; the worst `worst_groups` groups are listed by name.
std::string render_routing(const run::RoutingReport& routing, std::size_t worst_groups = 3);

}  // namespace llmd::report
