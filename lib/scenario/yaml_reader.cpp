#include "scenario/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

#include "util/duration.hpp"
#include "util/number_text.hpp"

namespace llmd::scenario::yaml {

namespace {

using util::fail;

bool has_mark(const YAML::Node& node) {
  return node.IsDefined() && !node.IsNull() && node.Mark().line >= 0;
}

std::string format_bound(double value) { return util::format_number(value); }

}  // namespace

std::string join_names(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    out += out.empty() ? "" : ", ";
    out += name;
  }
  return out;
}

Field::Field(const Document& document, const YAML::Node& node, std::string path, YAML::Mark mark)
    : m_document(&document), m_node(node), m_path(std::move(path)), m_mark(has_mark(m_node) ? m_node.Mark() : mark) {}

SourceLocation Field::where() const {
  if (m_mark.line < 0) {
    return {m_document->file_name, 0, 0};
  }
  return {m_document->file_name, m_mark.line + 1, m_mark.column + 1};
}

std::string Field::error(std::string_view message) const {
  if (m_path.empty()) {
    return fmt::format("{}: {}", to_string(where()), message);
  }
  return fmt::format("{}: {}: {}", to_string(where()), m_path, message);
}

std::string Field::child_path(std::string_view key) const {
  return m_path.empty() ? std::string(key) : fmt::format("{}.{}", m_path, key);
}

std::string Field::item_path(std::size_t index) const { return fmt::format("{}[{}]", m_path, index); }

bool Field::is_quoted() const { return m_node.IsScalar() && m_node.Tag() == "!"; }

std::string Field::describe() const {
  if (is_null()) {
    return "null";
  }
  if (m_node.IsSequence()) {
    return "a list";
  }
  if (m_node.IsMap()) {
    return "a mapping";
  }
  return fmt::format("{}\"{}\"", is_quoted() ? "the string " : "", m_node.Scalar());
}

util::Result<std::string> Field::scalar_text(std::string_view expected) const {
  if (!m_node.IsScalar()) {
    return fail(error(fmt::format("expected {}, got {}", expected, describe())));
  }
  return m_node.Scalar();
}

std::string Field::choice_error(std::string_view what, std::span<const std::string_view> names) const {
  return error(fmt::format("unknown {} \"{}\"; expected one of {}", what, m_node.Scalar(), join_names(names)));
}

util::Result<std::string> Field::as_string() const {
  auto text = scalar_text("a string");
  if (text && text->empty()) {
    return fail(error("must not be empty (leave the key out for the default)"));
  }
  return text;
}

util::Result<bool> Field::as_bool() const {
  constexpr std::string_view k_expected = "a boolean (true or false)";
  auto text = scalar_text(k_expected);
  if (!text) {
    return fail(text.error());
  }
  if (!is_quoted()) {
    if (*text == "true" || *text == "True" || *text == "TRUE") {
      return true;
    }
    if (*text == "false" || *text == "False" || *text == "FALSE") {
      return false;
    }
  }
  return fail(error(fmt::format("expected {}, got {}", k_expected, describe())));
}

util::Result<double> Field::as_number(Range range) const {
  auto text = scalar_text("a number");
  if (!text) {
    return fail(text.error());
  }
  double value = 0;
  const char* end = text->data() + text->size();
  const auto parsed = std::from_chars(text->data(), end, value);
  if (is_quoted() || parsed.ec != std::errc() || parsed.ptr != end || !std::isfinite(value)) {
    return fail(error(fmt::format("expected a number, got {}", describe())));
  }
  const bool below = range.min_exclusive ? !(value > range.min) : value < range.min;
  if (below) {
    return fail(error(fmt::format("must be {} {}, got {}", range.min_exclusive ? ">" : ">=", format_bound(range.min), *text)));
  }
  if (value > range.max) {
    return fail(error(fmt::format("must be <= {}, got {}", format_bound(range.max), *text)));
  }
  return value;
}

util::Result<std::uint64_t> Field::as_unsigned(std::uint64_t min, std::uint64_t max) const {
  auto text = scalar_text("a whole number");
  if (!text) {
    return fail(text.error());
  }
  if (!is_quoted() && !text->empty() && text->front() == '-' &&
      text->find_first_not_of("0123456789", 1) == std::string::npos && text->size() > 1) {
    return fail(error(fmt::format("must be >= {}, got {}", min, *text)));
  }
  std::uint64_t value = 0;
  const char* end = text->data() + text->size();
  const auto parsed = std::from_chars(text->data(), end, value);
  if (is_quoted() || parsed.ec != std::errc() || parsed.ptr != end) {
    if (parsed.ec == std::errc::result_out_of_range) {
      return fail(error(fmt::format("must be <= {}, got {}", max, *text)));
    }
    return fail(error(fmt::format("expected a whole number, got {}", describe())));
  }
  if (value < min) {
    return fail(error(fmt::format("must be >= {}, got {}", min, *text)));
  }
  if (value > max) {
    return fail(error(fmt::format("must be <= {}, got {}", max, *text)));
  }
  return value;
}

util::Result<std::chrono::nanoseconds> Field::as_duration(ZeroDuration zero, std::chrono::nanoseconds max) const {
  auto text = scalar_text("a duration such as \"30s\" or \"2m30s\"");
  if (!text) {
    return fail(text.error());
  }
  auto duration = util::parse_duration(*text);
  if (!duration) {
    return fail(error(duration.error()));
  }
  if (zero == ZeroDuration::rejected && duration->count() == 0) {
    return fail(error(fmt::format("must be > 0, got \"{}\"", *text)));
  }
  if (*duration > max) {
    return fail(error(fmt::format("must be <= {}, got \"{}\"", util::format_duration(max), *text)));
  }
  return duration;
}

util::Result<std::vector<Field>> Field::as_list() const {
  if (!m_node.IsSequence()) {
    return fail(error(fmt::format("expected a list, got {}", describe())));
  }
  std::vector<Field> items;
  std::size_t index = 0;
  for (const YAML::Node& item : m_node) {
    items.emplace_back(*m_document, item, item_path(index), m_mark);
    ++index;
  }
  return items;
}

util::Result<std::string> Field::as_existing_file() const {
  auto text = as_string();
  if (!text) {
    return text;
  }
  std::filesystem::path path(*text);
  if (path.is_relative()) {
    path = m_document->base_dir / path;
  }
  path = path.lexically_normal();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    if (std::filesystem::exists(path, ec)) {
      return fail(error(fmt::format("\"{}\" is not a regular file (a directory, device or FIFO): give a file", *text)));
    }
    return fail(error(fmt::format("file \"{}\" not found (looked for {}; relative paths start at the scenario's directory)",
                                  *text, path.string())));
  }
  return path.string();
}

std::optional<Field> Field::peek(std::string_view key) const {
  if (!m_node.IsMap()) {
    return std::nullopt;
  }
  for (auto it = m_node.begin(); it != m_node.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      Field value(*m_document, it->second, child_path(key), it->first.Mark());
      return value.is_null() ? std::nullopt : std::optional<Field>(value);
    }
  }
  return std::nullopt;
}

util::Result<Section> Section::open(const Field& field, std::span<const std::string_view> valid_keys,
                                    std::string_view context) {
  return open_checked(field, valid_keys, context);
}

util::Result<Section> Section::open_any(const Field& field) { return open_checked(field, std::nullopt, {}); }

util::Result<Section> Section::open_checked(const Field& field, std::optional<std::span<const std::string_view>> valid_keys,
                                            std::string_view context) {
  if (!field.node().IsMap()) {
    return fail(field.error(fmt::format("expected a mapping, got {}", field.describe())));
  }
  Section section(field);
  for (auto it = field.node().begin(); it != field.node().end(); ++it) {
    Field key(field.document(), it->first, field.path(), it->first.Mark());
    if (!it->first.IsScalar()) {
      return fail(key.error(fmt::format("expected a key name, got {}", key.describe())));
    }
    const std::string& name = it->first.Scalar();
    if (valid_keys && std::find(valid_keys->begin(), valid_keys->end(), name) == valid_keys->end()) {
      return fail(key.error(fmt::format("unknown key \"{}\"{}{}; valid keys: {}", name, context.empty() ? "" : " ", context,
                                        join_names(*valid_keys))));
    }
    const auto [seen, inserted] = section.m_index.try_emplace(name, section.m_entries.size());
    if (!inserted) {
      const Field& first = section.m_entries[seen->second].first;
      return fail(key.error(fmt::format("duplicate key \"{}\" (first at line {})", name, first.where().line)));
    }
    Field value(field.document(), it->second, field.child_path(name), it->first.Mark());
    section.m_entries.emplace_back(std::move(key), std::move(value));
  }
  return section;
}

std::optional<Field> Section::get(std::string_view key) const {
  const auto found = m_index.find(key);
  if (found == m_index.end()) {
    return std::nullopt;
  }
  const Field& value = m_entries[found->second].second;
  return value.is_null() ? std::nullopt : std::optional<Field>(value);
}

util::Result<std::optional<Field>> Section::lookup(std::string_view key, Need need) const {
  auto field = get(key);
  if (!field && need == Need::required) {
    return fail(m_self.error(fmt::format("missing required key \"{}\"", key)));
  }
  return field;
}

util::Result<Field> Section::require(std::string_view key) const {
  auto field = lookup(key, Need::required);
  if (!field) {
    return fail(field.error());
  }
  return **field;
}

util::Result<void> Section::read(std::string_view key, std::string& out, Need need) const {
  auto field = lookup(key, need);
  if (!field || !*field) {
    return field.map([](const auto&) {});
  }
  return (*field)->as_string().map([&out](std::string value) { out = std::move(value); });
}

util::Result<void> Section::read(std::string_view key, bool& out, Need need) const {
  auto field = lookup(key, need);
  if (!field || !*field) {
    return field.map([](const auto&) {});
  }
  return (*field)->as_bool().map([&out](bool value) { out = value; });
}

util::Result<void> Section::read(std::string_view key, double& out, Range range, Need need) const {
  auto field = lookup(key, need);
  if (!field || !*field) {
    return field.map([](const auto&) {});
  }
  return (*field)->as_number(range).map([&out](double value) { out = value; });
}

util::Result<void> Section::read(std::string_view key, std::chrono::nanoseconds& out, ZeroDuration zero, Need need,
                                 std::chrono::nanoseconds max) const {
  auto field = lookup(key, need);
  if (!field || !*field) {
    return field.map([](const auto&) {});
  }
  return (*field)->as_duration(zero, max).map([&out](std::chrono::nanoseconds value) { out = value; });
}

util::Result<std::optional<std::uint64_t>> Section::read_u64(std::string_view key, std::uint64_t min, std::uint64_t max,
                                                             Need need) const {
  auto field = lookup(key, need);
  if (!field || !*field) {
    return field.map([](const auto&) { return std::optional<std::uint64_t>(); });
  }
  return (*field)->as_unsigned(min, max).map([](std::uint64_t value) { return std::optional<std::uint64_t>(value); });
}

}  // namespace llmd::scenario::yaml
