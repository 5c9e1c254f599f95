#include "prom/text_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace llmd::prom {

namespace {

// Shortest round-trip decimal digits of a finite, non-zero |value| and its decimal exponent:
// 32.0 -> {"32", 1}, 1.5e-05 -> {"15", -5}.
std::pair<std::string, int> shortest_digits(double magnitude) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, magnitude, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  const auto e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') {
      digits += c;
    }
  }
  return {digits, std::atoi(std::string(sci.substr(e_pos + 1)).c_str())};
}

// "d.ddd" (or just "d" for a single digit).
std::string mantissa(const std::string& digits) {
  std::string out = digits.substr(0, 1);
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  return out;
}

// Python repr(float) fixed notation, used when -4 <= exponent < 16: "32.0", "0.0001", "10.95".
std::string fixed_notation(const std::string& digits, int exponent) {
  std::string out;
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out += digits;
    return out;
  }
  const auto int_len = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= int_len) {
    out += digits;
    out.append(int_len - digits.size(), '0');
    out += ".0";
  } else {
    out += digits.substr(0, int_len);
    out += '.';
    out += digits.substr(int_len);
  }
  return out;
}

}  // namespace

std::string format_value(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  if (value == 0) {
    return std::signbit(value) ? "-0.0" : "0.0";
  }
  const bool negative = value < 0;
  const auto [digits, exponent] = shortest_digits(std::fabs(value));
  std::string out = negative ? "-" : "";
  if (!negative && exponent >= 6 && exponent < 16) {
    // prometheus_client's floatToGoString: positive values whose repr has 7+ integer digits are
    // written Go-style, "1e+06", "1.048576e+06", with "e+0" glued to the exponent ("1.09e+010").
    return mantissa(digits) + "e+0" + std::to_string(exponent);
  }
  if (exponent >= -4 && exponent < 16) {
    return out + fixed_notation(digits, exponent);
  }
  // Python repr(float) otherwise: "1.5e-05", "1e+16", at least two exponent digits.
  out += mantissa(digits);
  out += exponent < 0 ? "e-" : "e+";
  const int magnitude = std::abs(exponent);
  if (magnitude < 10) {
    out += '0';
  }
  out += std::to_string(magnitude);
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

void append_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_sample(std::string& out, std::string_view name, const LabelPairs& labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [key, val] : labels) {
      if (!first) {
        out += ',';
      }
      first = false;
      out += key;
      out += "=\"";
      out += escape_label_value(val);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}

}  // namespace llmd::prom
