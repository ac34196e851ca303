// A context-free grammar over bytes, the basis of constrained decoding (structured outputs, tools).
//
// Text form (GBNF-like; the start rule is `root`):
//   name ::= alternative | alternative ...      rules may span lines; `#` starts a comment
//   "text"  literal (escapes \n \r \t \\ \" \' \xHH \uHHHH \UHHHHHHHH)
//   [a-z_] [^"\\]  code-point classes (ranges, negation), .  any code point
//   ( ... ) grouping;  X*  X+  X?  X{m}  X{m,}  X{m,n}  repetition
// Code points are matched as their UTF-8 bytes: a class compiles to alternatives of byte-range
// sequences, so the matcher only ever sees bytes and every accepted output is valid UTF-8.
//
// Compiled form: every rule is a list of alternatives, each a run of elements in one array ending
// with an End element; an element is either a byte set or a rule reference. Repetitions and groups
// become anonymous rules (X* ::= X X* | ε, written right-recursive so the matcher can treat the
// tail call as a jump and its stacks stay bounded). Left recursion and cycles of rules that match
// without consuming a byte are refused at compile time: the matcher could not terminate on them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace minima::grammar {

// Bad grammar text or structure; the message names the line and column or the rule.
class GrammarError : public Error {
 public:
  using Error::Error;
};

struct ByteSet {
  std::array<uint64_t, 4> bits{};
  bool has(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  void add(uint8_t lo, uint8_t hi) {
    for (unsigned b = lo; b <= hi; ++b) bits[b >> 6] |= uint64_t{1} << (b & 63);
  }
  bool operator==(const ByteSet&) const = default;
};

struct Elem {
  enum class Kind : uint8_t { Bytes, Rule, End };
  Kind kind = Kind::End;
  uint32_t arg = 0;  // Bytes: index of the set; Rule: rule id
};

class Grammar {
 public:
  // Parses and checks grammar text. Throws GrammarError.
  static Grammar parse(std::string_view text);

  uint32_t root() const { return root_; }
  const Elem& elem(uint32_t pos) const { return elems_[pos]; }
  const ByteSet& set(uint32_t i) const { return sets_[i]; }
  // Start positions of the rule's alternatives.
  std::span<const uint32_t> alternatives(uint32_t rule) const { return alts_[rule]; }
  const std::string& rule_name(uint32_t rule) const { return names_[rule]; }
  size_t n_rules() const { return alts_.size(); }

 private:
  friend class Builder;
  std::vector<Elem> elems_;
  std::vector<std::vector<uint32_t>> alts_;
  std::vector<ByteSet> sets_;
  std::vector<std::string> names_;
  uint32_t root_ = 0;
};

// GBNF literal text ("...") that matches exactly these bytes (UTF-8 text: quotes, backslashes and
// control characters escaped, the rest as is). What the JSON Schema compiler emits.
std::string gbnf_literal(std::string_view bytes);

}  // namespace minima::grammar
