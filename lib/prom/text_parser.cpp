// Prometheus text exposition (0.0.4) parser, tolerant of the OpenMetrics bits vLLM emits.
//
// Hand-written on purpose: parsing what vLLM serves on /metrics is domain core for llmd-bench
// (its quirks: /work/shared/VLLM-METRICS.md), and no Debian-packaged C++ library parses the
// exposition format (prometheus-cpp only writes it). One pass over a string_view, no regex, no
// per-character allocation; numbers go through std::from_chars (no locale).
//
// One construct per line; blanks (spaces, tabs) are tolerated around tokens:
//   comment = "#" ( "HELP" name text | "TYPE" name type | "EOF" | anything else, ignored )
//   sample  = name ( "{" ( label ( "," label )* ","? )? "}" )? value ( int-timestamp-ms )?
//   label   = label_name "=" '"' text-with-\\-\"-\n-escapes '"'
//   name    = [a-zA-Z_:][a-zA-Z0-9_:]*      label_name = [a-zA-Z_][a-zA-Z0-9_]*
#include "prom/text_parser.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <unordered_map>
#include <utility>

#include "util/result.hpp"

namespace llmd::prom {

namespace {

using Status = util::Result<void>;
using util::fail;

constexpr std::size_t k_max_quote_chars = 40;  // error messages quote at most this much input
constexpr std::string_view k_name_syntax = "; expected [a-zA-Z_:][a-zA-Z0-9_:]*";
constexpr std::string_view k_label_syntax = "; expected [a-zA-Z_][a-zA-Z0-9_]*";

// Every type with its TYPE-line name and the sample-name suffixes its families own.
struct TypeInfo {
  MetricType type;
  std::string_view name;
  std::array<std::string_view, 5> suffixes;  // at least one empty entry: the family name itself
};
constexpr TypeInfo k_types[] = {
    {MetricType::counter, "counter", {"_total", "_created"}},
    {MetricType::gauge, "gauge", {}},
    {MetricType::histogram, "histogram", {"_bucket", "_sum", "_count", "_created"}},
    {MetricType::summary, "summary", {"_sum", "_count", "_created"}},  // and the bare name with quantile=
    {MetricType::untyped, "untyped", {}},
    {MetricType::info, "info", {"_info"}},
    {MetricType::stateset, "stateset", {}},
    {MetricType::gaugehistogram, "gaugehistogram", {"_gsum", "_gcount", "_bucket"}},
    {MetricType::unknown, "unknown", {}},
};
static_assert(std::size(k_types) == static_cast<std::size_t>(MetricType::unknown) + 1, "one row per MetricType");

constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_label_char(char c) { return is_alpha(c) || c == '_' || is_digit(c); }
constexpr bool is_name_char(char c) { return is_label_char(c) || c == ':'; }

// `text` in double quotes, shortened to k_max_quote_chars.
std::string quote(std::string_view text) {
  std::string out = "\"";
  out += text.substr(0, k_max_quote_chars);
  out += text.size() > k_max_quote_chars ? "...\"" : "\"";
  return out;
}

std::string of_metric(const Sample& sample) { return " of metric \"" + sample.name + "\""; }

// Position within one line (without its line terminator).
class Cursor {
 public:
  explicit Cursor(std::string_view line) : m_line(line) {}

  bool at_end() const { return m_pos >= m_line.size(); }
  char peek() const { return at_end() ? '\0' : m_line[m_pos]; }
  std::string_view rest() const { return m_line.substr(m_pos); }
  void advance(std::size_t n = 1) { m_pos = std::min(m_pos + n, m_line.size()); }
  void skip_blanks() { take_while(is_blank); }
  std::string_view take_token() { return take_while([](char c) { return !is_blank(c); }); }  // up to a blank
  template <class Pred>
  std::string_view take_while(Pred pred) {
    const std::size_t start = m_pos;
    while (m_pos < m_line.size() && pred(m_line[m_pos])) {
      ++m_pos;
    }
    return m_line.substr(start, m_pos - start);
  }

 private:
  std::string_view m_line;
  std::size_t m_pos = 0;
};

// `head` (already read) plus the rest of its token up to a blank or one of `stops`, quoted.
std::string quote_token(std::string_view head, const Cursor& cursor, std::string_view stops) {
  Cursor tail(cursor.rest());
  std::string token(head);
  token += tail.take_while([&](char c) { return !is_blank(c) && stops.find(c) == std::string_view::npos; });
  return quote(token);
}

// Decodes \\ and \n (and \" when `quote_escape`); any other escape keeps its backslash.
std::string unescape(std::string_view text, bool quote_escape) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (text[i] == '\\' && (next == '\\' || next == 'n' || (quote_escape && next == '"'))) {
      out += next == 'n' ? '\n' : next;
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

template <class Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

// A float as Prometheus writes it: 32.0, 1e+06, 1.0931263819e+010, NaN, +Inf, -Inf, Inf.
// from_chars takes no '+' sign, so the sign is handled here.
std::optional<double> parse_value(std::string_view text) {
  const bool negative = text.starts_with('-');
  if (negative || text.starts_with('+')) {
    text.remove_prefix(1);
  }
  if (text.starts_with('-') || text.starts_with('+')) {
    return std::nullopt;
  }
  const auto value = parse_number<double>(text);
  return value && negative ? std::optional<double>(-*value) : value;
}

const TypeInfo* find_type(auto matches) {
  const auto* it = std::find_if(std::begin(k_types), std::end(k_types), matches);
  return it == std::end(k_types) ? nullptr : it;
}

// Whether a sample named `sample_name` belongs to `family`: its name plus one of its type's suffixes.
bool belongs_to(const Family& family, std::string_view sample_name) {
  if (!sample_name.starts_with(family.name)) {
    return false;
  }
  const std::string_view suffix = sample_name.substr(family.name.size());
  const auto& suffixes = find_type([&](const TypeInfo& info) { return info.type == family.type; })->suffixes;
  return std::find(suffixes.begin(), suffixes.end(), suffix) != suffixes.end();
}

// Label set and value of one sample line. The cursor is on '{'.
class LabelParser {
 public:
  LabelParser(Cursor& cursor, Sample& sample) : m_cursor(cursor), m_sample(sample) {}

  Status parse() {
    m_cursor.advance();  // '{'
    const auto rest = m_cursor.rest();
    m_sample.labels.reserve(static_cast<std::size_t>(std::count(rest.begin(), rest.end(), '=')));
    while (true) {
      m_cursor.skip_blanks();
      if (m_cursor.peek() == '}') {
        m_cursor.advance();
        return {};
      }
      if (auto status = parse_label(); !status) {
        return status;
      }
      m_cursor.skip_blanks();
      if (m_cursor.peek() != ',' && m_cursor.peek() != '}') {
        const std::string after = "after label " + quote(m_sample.labels.back().name);
        return fail(m_cursor.at_end() ? "missing '}' " + after + of_metric(m_sample)
                                      : "expected ',' or '}' " + after + ", got " + quote(m_cursor.rest()));
      }
      m_cursor.advance(m_cursor.peek() == ',' ? 1 : 0);
    }
  }

 private:
  Status parse_label() {
    if (m_cursor.at_end()) {
      return fail("missing '}' in the labels" + of_metric(m_sample));
    }
    const std::string_view name = m_cursor.take_while(is_label_char);
    if (name.empty() || is_digit(name.front()) || m_cursor.peek() == ':') {
      return fail("invalid label name " + quote_token(name, m_cursor, "=,}") + std::string(k_label_syntax));
    }
    m_cursor.skip_blanks();
    if (m_cursor.peek() != '=') {
      return fail("expected '=' after label name " + quote(name));
    }
    m_cursor.advance();
    m_cursor.skip_blanks();
    if (m_cursor.peek() != '"') {
      return fail("expected '\"' to open the value of label " + quote(name) + ", got " + quote(m_cursor.rest()));
    }
    m_cursor.advance();
    for (const Label& label : m_sample.labels) {
      if (label.name == name) {
        return fail("duplicate label name " + quote(name) + of_metric(m_sample));
      }
    }
    Label& label = m_sample.labels.emplace_back();
    label.name = name;
    return parse_label_value(label);
  }

  // Reads the escaped label value up to and including its closing quote.
  Status parse_label_value(Label& label) {
    const std::string_view rest = m_cursor.rest();
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '"') {
        label.value = unescape(rest.substr(0, i), true);
        m_cursor.advance(i + 1);
        return {};
      }
      i += rest[i] == '\\' ? 1 : 0;
    }
    return fail("unterminated value " + quote(rest) + " for label \"" + label.name + "\"; expected a closing '\"'");
  }

  Cursor& m_cursor;
  Sample& m_sample;
};

// Value and optional timestamp, after the name and labels; nothing may follow them.
Status parse_value_and_timestamp(Cursor& cursor, Sample& sample) {
  const std::string_view value_text = cursor.take_token();
  if (value_text.empty()) {
    return fail("missing value" + of_metric(sample));
  }
  const auto value = parse_value(value_text);
  if (!value) {
    return fail("could not parse value " + quote(value_text) + of_metric(sample) +
                "; expected a float, NaN, +Inf or -Inf");
  }
  sample.value = *value;
  cursor.skip_blanks();
  if (cursor.at_end()) {
    return {};
  }
  const std::string_view timestamp_text = cursor.take_token();
  sample.timestamp_ms = parse_number<std::int64_t>(timestamp_text);
  if (!sample.timestamp_ms) {
    return fail("could not parse timestamp " + quote(timestamp_text) + of_metric(sample) +
                "; expected integer milliseconds");
  }
  cursor.skip_blanks();
  if (!cursor.at_end()) {
    return fail("unexpected text " + quote(cursor.rest()) + " after the timestamp" + of_metric(sample) +
                "; expected end of line");
  }
  return {};
}

class Parser {
 public:
  explicit Parser(std::string_view text) : m_text(text) { m_out.families.reserve(text.size() / 512 + 8); }

  tl::expected<Exposition, ParseError> run() {
    for (std::size_t start = 0; start < m_text.size();) {
      ++m_line;
      const std::size_t end = std::min(m_text.find('\n', start), m_text.size());
      std::string_view line = m_text.substr(start, end - start);
      if (line.ends_with('\r')) {
        line.remove_suffix(1);
      }
      if (auto status = parse_line(line); !status) {
        return tl::unexpected(ParseError{m_line, std::move(status.error())});
      }
      start = end + 1;
    }
    return std::move(m_out);
  }

 private:
  struct Declared {
    bool type = false, help = false;  // a # TYPE / # HELP line was seen for the family
  };

  Status parse_line(std::string_view line) {
    Cursor cursor(line);
    cursor.skip_blanks();
    if (cursor.at_end()) {
      return {};
    }
    if (m_seen_eof) {
      return fail("unexpected text after \"# EOF\": " + quote(cursor.rest()));
    }
    if (cursor.peek() != '#') {
      return parse_sample(cursor);
    }
    cursor.advance();
    cursor.skip_blanks();
    const std::string_view keyword = cursor.take_token();
    cursor.skip_blanks();
    if (keyword == "EOF" && cursor.at_end()) {
      m_seen_eof = true;
    }
    if ((keyword != "HELP" && keyword != "TYPE") || cursor.at_end()) {
      return {};  // an ordinary comment, or a bare "# HELP": ignored, as Prometheus does
    }
    const std::string_view name = cursor.take_token();
    if (!is_metric_name(name)) {
      return fail("invalid metric name " + quote(name) + " in # " + std::string(keyword) + " line" +
                  std::string(k_name_syntax));
    }
    cursor.skip_blanks();
    std::string_view text = cursor.rest();
    if (keyword == "HELP") {
      return declare_help(name, text);
    }
    while (text.ends_with(' ') || text.ends_with('\t')) {
      text.remove_suffix(1);
    }
    return declare_type(name, text);
  }

  Status declare_help(std::string_view name, std::string_view text) {
    const std::size_t index = find_or_add_family(name);
    if (m_declared[index].help) {
      return fail("second HELP line for metric family " + quote(name));
    }
    m_declared[index].help = true;
    m_out.families[index].help = unescape(text, false);
    m_current = index;
    return {};
  }

  Status declare_type(std::string_view name, std::string_view type_text) {
    const TypeInfo* type = find_type([&](const TypeInfo& info) { return info.name == type_text; });
    if (type == nullptr) {
      return fail("unknown metric type " + quote(type_text) + " for " + quote(name) +
                  "; expected counter, gauge, histogram, summary, untyped, info, stateset, gaugehistogram or unknown");
    }
    const std::size_t index = find_or_add_family(name);
    Family& family = m_out.families[index];
    if (m_declared[index].type) {
      return fail("second TYPE line for metric family " + quote(name));
    }
    if (!family.samples.empty()) {
      return fail("TYPE line for metric family " + quote(name) + " after its samples (line " +
                  std::to_string(family.samples.front().line) + ")");
    }
    m_declared[index].type = true;
    family.type = type->type;
    m_current = index;
    return {};
  }

  std::size_t find_or_add_family(std::string_view name) {
    const auto [it, added] = m_index.try_emplace(name, m_out.families.size());
    if (added) {
      m_out.families.emplace_back().name = name;
      m_declared.emplace_back();
    }
    return it->second;
  }

  // The family of the latest HELP/TYPE line when the name fits it (the family name, or it plus a
  // suffix of its type), else the family with exactly this name (created untyped when new).
  Family& family_for_sample(std::string_view name) {
    if (m_current && belongs_to(m_out.families[*m_current], name)) {
      return m_out.families[*m_current];
    }
    return m_out.families[find_or_add_family(name)];
  }

  Status parse_sample(Cursor& cursor) {
    const std::string_view name = cursor.take_while(is_name_char);
    const bool name_ends_well = cursor.at_end() || is_blank(cursor.peek()) || cursor.peek() == '{';
    if (name.empty() || is_digit(name.front()) || !name_ends_well) {
      return fail("invalid metric name " + quote_token(name, cursor, "{") + std::string(k_name_syntax));
    }
    Sample sample;
    sample.name = name;
    sample.line = m_line;
    cursor.skip_blanks();
    if (cursor.peek() == '{') {
      if (auto status = LabelParser(cursor, sample).parse(); !status) {
        return status;
      }
      cursor.skip_blanks();
    }
    if (auto status = parse_value_and_timestamp(cursor, sample); !status) {
      return status;
    }
    family_for_sample(name).samples.push_back(std::move(sample));
    return {};
  }

  std::string_view m_text;
  Exposition m_out;
  std::vector<Declared> m_declared;                           // parallel to m_out.families
  std::unordered_map<std::string_view, std::size_t> m_index;  // family name (a view into m_text) -> index
  std::optional<std::size_t> m_current;                       // family of the latest HELP/TYPE line
  std::size_t m_line = 0;                                     // 1-based number of the line being parsed
  bool m_seen_eof = false;
};

}  // namespace

std::string_view to_string(MetricType type) {
  const TypeInfo* info = find_type([&](const TypeInfo& candidate) { return candidate.type == type; });
  return info == nullptr ? "untyped" : info->name;
}

const std::string* Sample::label(std::string_view label_name) const {
  const auto it = std::find_if(labels.begin(), labels.end(), [&](const Label& l) { return l.name == label_name; });
  return it == labels.end() ? nullptr : &it->value;
}

const Family* Exposition::family(std::string_view name) const {
  const auto it = std::find_if(families.begin(), families.end(), [&](const Family& f) { return f.name == name; });
  return it == families.end() ? nullptr : &*it;
}

std::vector<const Sample*> Exposition::samples(std::string_view sample_name) const {
  std::vector<const Sample*> out;
  for (const Family& f : families) {
    for (const Sample& s : f.samples) {
      if (s.name == sample_name) {
        out.push_back(&s);
      }
    }
  }
  return out;
}

tl::expected<Exposition, ParseError> parse_text(std::string_view text) { return Parser(text).run(); }

std::string format_error(const ParseError& error, std::string_view source_name) {
  return std::string(source_name) + ":" + std::to_string(error.line) + ": " + error.message;
}

bool is_metric_name(std::string_view name) {
  return !name.empty() && !is_digit(name.front()) && std::all_of(name.begin(), name.end(), is_name_char);
}

bool is_label_name(std::string_view name) {
  return !name.empty() && !is_digit(name.front()) && std::all_of(name.begin(), name.end(), is_label_char);
}

}  // namespace llmd::prom
