// String constraints of the JSON Schema compiler (json_schema.cpp): `format` and `pattern` as
// grammar text for a whole JSON string, quotes included, written in its JSON encoding (a quote,
// a backslash or a control character in the value appears as its escape). Internal to
// runtime/grammar.
#pragma once

#include <stdexcept>
#include <string>

namespace minima::grammar {

// What cannot be compiled; the caller turns it into a SchemaError naming the keyword.
class StringConstraintError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// date, time, date-time (RFC 3339), uuid, email (a conservative subset of addresses).
std::string format_gbnf(const std::string& format);

// An ECMA-262 regular expression (JSON Schema's `pattern`, which matches anywhere in the string
// unless anchored with ^ / $): literals, escapes (\d \w \s and their negations, \t \n \r \f \v
// \xHH \uHHHH, escaped punctuation), classes with ranges and negation, '.', groups ( ) and (?: ),
// alternation, quantifiers * + ? {m} {m,} {m,n} (lazy forms too: they match the same strings).
// Refused: backreferences, lookaround, named groups, \b \B, ^ or $ other than at the ends.
// Unanchored ends get up to 100 free characters. Shorthand classes generate what every common
// dialect agrees on (json_strings.cpp says how), so outputs match under any validator.
std::string pattern_gbnf(const std::string& regex);

}  // namespace minima::grammar
