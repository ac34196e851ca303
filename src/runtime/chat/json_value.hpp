// Conversions between JSON and template values: the render context comes in as JSON, and the
// `tojson` filter writes JSON exactly like Python's json.dumps(ensure_ascii=False, ...) as
// transformers configures it.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

#include "runtime/chat/value.hpp"

namespace minima::jinja {

class Interp;

struct JsonStyle {
  std::optional<std::string> indent;  // none: one line
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};

// json.dumps(v, ...). TypeError for values JSON cannot hold ("Object of type Undefined is not
// JSON serializable").
std::string dumps(Interp& in, const Value& v, const JsonStyle& style);

// JSON objects keep their key order; integers beyond int64 become floats. Throws Error when the
// document nests deeper than kMaxDepth.
Value from_json(const nlohmann::ordered_json& j);

}  // namespace minima::jinja
