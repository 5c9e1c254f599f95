#include "sim/prefix_cache.hpp"  // placeholder: being implemented
