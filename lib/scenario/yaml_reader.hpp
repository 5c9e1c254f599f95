#pragma once
// Internal to the loader: typed, located access to a parsed YAML document. Every error comes out
// as "file:line:column: field.path: message", where the field path is "load[1].executor"
// (list indexes from 0) and the line/column are 1-based (YAML::Mark counts from 0).
//
// Conventions shared by every section of the schema:
//  - a key with a null value (`vus:` or `vus: ~`) counts as absent;
//  - a quoted scalar is a string: `vus: "10"` is rejected where a number is expected, and
//    `insecure: "true"` where a boolean is (JSON input is typed the same way);
//  - booleans are `true` / `false` (also True/TRUE, as YAML 1.2), not yes/no/on/off;
//  - durations need a unit (util::parse_duration);
//  - unknown and duplicate keys are errors, listing the valid keys.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "scenario/limits.hpp"
#include "scenario/source_location.hpp"
#include "util/result.hpp"

namespace llmd::scenario::yaml {

// The file being loaded: its name as given (for messages) and the directory relative paths in
// it are resolved against.
struct Document {
  std::string file_name;
  std::filesystem::path base_dir;
};

enum class Need { optional, required };

// Bounds of a number, both finite: every number a scenario gives has an upper bound (limits.hpp).
// Messages say "must be between 0 and 100", "must be > 0" or "must be <= 100000".
struct Range {
  double min = 0;
  double max = 0;
  bool min_exclusive = false;

  static Range between(double low, double high) { return {low, high, false}; }
  static Range above(double low, double high) { return {low, high, true}; }  // low < value <= high
};

enum class ZeroDuration { allowed, rejected };

// One node of the document with its field path and position.
class Field {
 public:
  Field(const Document& document, const YAML::Node& node, std::string path, YAML::Mark mark);

  const YAML::Node& node() const { return m_node; }
  const std::string& path() const { return m_path; }
  const Document& document() const { return *m_document; }
  SourceLocation where() const;
  // "file:line:column: path: message" (no "path: " at the top level).
  std::string error(std::string_view message) const;
  // `path` extended by ".key" or "[index]".
  std::string child_path(std::string_view key) const;
  std::string item_path(std::size_t index) const;

  util::Result<std::string> as_string() const;  // any scalar, non-empty
  util::Result<bool> as_bool() const;
  util::Result<double> as_number(Range range) const;
  util::Result<std::uint64_t> as_unsigned(std::uint64_t min, std::uint64_t max) const;
  // At most `max`: "must be <= 720h, got \"1000h\"".
  util::Result<std::chrono::nanoseconds> as_duration(ZeroDuration zero,
                                                     std::chrono::nanoseconds max = limits::k_max_duration) const;
  // One of `choices` (their spelling in the file); the error lists them.
  template <class T, std::size_t N>
  util::Result<T> as_choice(std::string_view what, const std::pair<std::string_view, T> (&choices)[N]) const;
  // The row of `rows` (a table whose rows have a `name`: prompt kinds, executors, cache sources)
  // named by this scalar; the error lists every name.
  template <class Row, std::size_t N>
  util::Result<const Row*> as_row(std::string_view what, const std::array<Row, N>& rows) const;
  // This mapping's `tag` key (an executor, a prompt kind) picks one of `rows`; errors say a mapping
  // with `tag` was expected, that `tag` is missing, or which values it may take.
  template <class Row, std::size_t N>
  util::Result<const Row*> tagged_row(std::string_view tag, std::string_view what, const std::array<Row, N>& rows) const;
  util::Result<std::vector<Field>> as_list() const;       // a sequence (a single scalar is NOT promoted)
  // The value of `key` in this mapping, without checking the other keys (to read a `kind`
  // that decides which keys are valid); nullopt when this is not a mapping or `key` is absent/null.
  std::optional<Field> peek(std::string_view key) const;
  // Relative paths are resolved against the scenario's directory; the file must exist.
  util::Result<std::string> as_existing_file() const;

  bool is_null() const { return !m_node.IsDefined() || m_node.IsNull(); }
  bool is_quoted() const;
  // "a mapping", "a sequence", "\"abc\"" (scalars are quoted), "null".
  std::string describe() const;

 private:
  // The text of a scalar (quoted or not); else "expected <expected>, got a mapping".
  util::Result<std::string> scalar_text(std::string_view expected) const;
  std::string choice_error(std::string_view what, std::span<const std::string_view> names) const;

  const Document* m_document;
  YAML::Node m_node;
  std::string m_path;
  YAML::Mark m_mark;
};

// A mapping whose keys have all been checked against a list of valid keys.
class Section {
 public:
  // Fails on a non-mapping, on duplicate keys, and on keys outside `valid_keys` (`context`
  // words the error: "unknown key \"rate\" for executor constant-vus").
  static util::Result<Section> open(const Field& field, std::span<const std::string_view> valid_keys,
                                    std::string_view context = {});

  // A mapping of user-chosen keys (headers, threshold metrics): only duplicates are checked.
  static util::Result<Section> open_any(const Field& field);

  const Field& self() const { return m_self; }
  bool has(std::string_view key) const { return get(key).has_value(); }
  std::optional<Field> get(std::string_view key) const;  // absent or null -> nullopt
  util::Result<Field> require(std::string_view key) const;
  // Keys in file order (for maps of user-chosen keys: headers, thresholds).
  const std::vector<std::pair<Field, Field>>& entries() const { return m_entries; }

  // Reads `key` into `out` when present; absent keeps the default in `out`.
  util::Result<void> read(std::string_view key, std::string& out, Need need = Need::optional) const;
  util::Result<void> read(std::string_view key, bool& out, Need need = Need::optional) const;
  util::Result<void> read(std::string_view key, double& out, Range range, Need need = Need::optional) const;
  util::Result<void> read(std::string_view key, std::chrono::nanoseconds& out, ZeroDuration zero,
                          Need need = Need::optional, std::chrono::nanoseconds max = limits::k_max_duration) const;
  // Reads `key` as a string and hands it to `parse` (std::string_view -> util::Result<T>) when
  // present; parse's error is located at the value ("s.yaml:4:13: <message>"). Absent keeps `out`.
  template <class T, class Parse>
  util::Result<void> read_parsed(std::string_view key, T& out, Parse parse) const {
    auto field = get(key);
    if (!field) {
      return {};
    }
    auto text = field->as_string();
    if (!text) {
      return util::fail(text.error());
    }
    util::Result<T> value = parse(std::string_view(*text));
    if (!value) {
      return util::fail(field->error(value.error()));
    }
    out = std::move(*value);
    return {};
  }
  // A whole number in [min, max]; `max` is capped at what Unsigned holds.
  template <class Unsigned>
  util::Result<void> read_unsigned(std::string_view key, Unsigned& out, std::uint64_t min, std::uint64_t max,
                                   Need need = Need::optional) const {
    const std::uint64_t cap = std::min<std::uint64_t>(max, std::numeric_limits<Unsigned>::max());
    return read_u64(key, min, cap, need).map([&out](std::optional<std::uint64_t> v) {
      if (v) {
        out = static_cast<Unsigned>(*v);
      }
    });
  }

 private:
  explicit Section(Field self) : m_self(std::move(self)) {}
  static util::Result<Section> open_checked(const Field& field, std::optional<std::span<const std::string_view>> valid_keys,
                                            std::string_view context);
  util::Result<std::optional<Field>> lookup(std::string_view key, Need need) const;
  util::Result<std::optional<std::uint64_t>> read_u64(std::string_view key, std::uint64_t min, std::uint64_t max,
                                                      Need need) const;

  Field m_self;
  std::vector<std::pair<Field, Field>> m_entries;  // (key, value)
  // Key name -> index in m_entries: lookups and the duplicate check stay O(log n), so a mapping of
  // 50,000 headers loads in O(n log n), not O(n^2).
  std::map<std::string, std::size_t, std::less<>> m_index;
};

// "a, b, c" for messages.
std::string join_names(std::span<const std::string_view> names);

template <class T, std::size_t N>
std::array<std::string_view, N> names_of(const std::pair<std::string_view, T> (&choices)[N]) {
  std::array<std::string_view, N> names;
  for (std::size_t i = 0; i < N; ++i) {
    names[i] = choices[i].first;
  }
  return names;
}

// The spelling of `value` in `choices` (for to_string of a choice), "?" when it is not there.
template <class T, std::size_t N>
std::string_view name_of(const std::pair<std::string_view, T> (&choices)[N], T value) {
  for (const auto& [name, choice] : choices) {
    if (choice == value) {
      return name;
    }
  }
  return "?";
}

template <class T, std::size_t N>
util::Result<T> Field::as_choice(std::string_view what, const std::pair<std::string_view, T> (&choices)[N]) const {
  auto text = scalar_text(std::string("one of ") + join_names(names_of(choices)));
  if (!text) {
    return util::fail(text.error());
  }
  for (const auto& [name, value] : choices) {
    if (*text == name) {
      return value;
    }
  }
  return util::fail(choice_error(what, names_of(choices)));
}

template <class Row, std::size_t N>
util::Result<const Row*> Field::tagged_row(std::string_view tag, std::string_view what,
                                           const std::array<Row, N>& rows) const {
  if (!m_node.IsMap()) {
    const bool vowel = !tag.empty() && std::string_view("aeiou").find(tag.front()) != std::string_view::npos;
    return util::fail(error(std::string("expected a mapping with ") + (vowel ? "an" : "a") + " `" + std::string(tag) +
                            "`, got " + describe()));
  }
  auto value = peek(tag);
  if (!value) {
    return util::fail(error("missing required key \"" + std::string(tag) + "\""));
  }
  return value->as_row(what, rows);
}

template <class Row, std::size_t N>
util::Result<const Row*> Field::as_row(std::string_view what, const std::array<Row, N>& rows) const {
  std::array<std::string_view, N> names;
  for (std::size_t i = 0; i < N; ++i) {
    names[i] = rows[i].name;
  }
  auto text = scalar_text(std::string("one of ") + join_names(names));
  if (!text) {
    return util::fail(text.error());
  }
  for (const Row& row : rows) {
    if (*text == row.name) {
      return &row;
    }
  }
  return util::fail(choice_error(what, names));
}

}  // namespace llmd::scenario::yaml
