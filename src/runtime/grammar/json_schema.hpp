// JSON Schema → grammar (text form of grammar.hpp), so that constrained decoding can only produce
// JSON that parses and validates against the schema.
//
// Supported: type (string, number, integer, boolean, null, object, array, and lists of them:
// nullable), properties, required, additionalProperties (false: the default in strict mode, like
// OpenAI's structured outputs; true or a schema: an object with properties still gets only them,
// which is valid output, and one without gets any keys with values of that schema, bounded by
// minProperties ≤ 1 / maxProperties), enum, const, anyOf, allOf (merged: objects' properties and
// required lists; other keywords must agree), $ref to "#", "#/$defs/…" or "#/definitions/…"
// (recursion included), items, prefixItems, minItems, maxItems, minLength, maxLength, pattern (an
// ECMA-262 subset, json_strings.hpp), format (date, time, date-time, uuid, email), minimum /
// maximum (whole-number bounds on numbers: exact without an exponent). Annotations (title,
// description, default, examples, $schema, $id, $comment, deprecated, readOnly, writeOnly) are
// ignored. Every other keyword, and combinations minima cannot enforce exactly (pattern with
// min/maxLength, a fractional bound on a number), is refused with SchemaError naming the keyword
// and its JSON pointer: a constraint is never skipped silently.
//
// Objects list their properties in the schema's order (optional ones may be left out); output is
// compact with at most a newline and 20 spaces or tabs between tokens, strings have at most
// kMaxStringChars characters unless maxLength says otherwise, keys not named by properties at
// most 64, and numbers at most 16 digits in each part, so a model cannot run on forever inside
// one value. These bounds narrow what may be generated; they never admit an invalid value.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"

namespace minima::grammar {

class SchemaError : public Error {
 public:
  SchemaError(std::string keyword, std::string pointer, const std::string& message)
      : Error(message), keyword_(std::move(keyword)), pointer_(std::move(pointer)) {}
  const std::string& keyword() const { return keyword_; }
  const std::string& pointer() const { return pointer_; }  // JSON pointer of the keyword

 private:
  std::string keyword_, pointer_;
};

struct SchemaOptions {
  bool strict = true;  // additionalProperties defaults to false
};

inline constexpr int kMaxStringChars = 2000;

// Throws SchemaError for unsupported or contradictory schemas. The schema is an ordered_json so
// that properties keep the order the user wrote them in (the order of the output's keys).
std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema,
                                const SchemaOptions& opt = {});

// The same as pieces to combine several schemas in one grammar (tool calls): root is a grammar
// expression for the schema's values, rules the rules it uses (names start with prefix), without
// the shared rules of json_base_gbnf() (ws, json-string, json-value, ...), which the combined
// grammar must include once.
struct SchemaRules {
  std::string root, rules;
};
SchemaRules json_schema_rules(const nlohmann::ordered_json& schema, const SchemaOptions& opt,
                              const std::string& prefix);
std::string json_base_gbnf();

// Any JSON value (response_format json_object uses an object of it).
std::string json_value_gbnf(bool object_only);

}  // namespace minima::grammar
