#pragma once
// Numbers in messages: whole values in full ("100000", "3600000", not fmt's shortest "1e+05"),
// others in the shortest form that reads back exactly ("1e-06", "0.5", "1e+300").
#include <string>

namespace llmd::util {

std::string format_number(double value);

}  // namespace llmd::util
