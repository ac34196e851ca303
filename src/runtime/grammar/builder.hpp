// Grammar construction: the parsed tree of every rule, compiled into the flat byte-level form of
// Grammar (grammar.hpp). Internal to runtime/grammar.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/grammar/grammar.hpp"

namespace minima::grammar {

using CharRanges = std::vector<std::pair<char32_t, char32_t>>;

struct Node {
  enum class Kind { Alt, Seq, Chars, Ref, Repeat };
  Kind kind = Kind::Seq;
  std::vector<Node> kids;
  CharRanges ranges;        // Chars: code-point ranges, inclusive
  std::string name, where;  // Ref: rule name, and where it was referenced (for errors)
  int64_t lo = 0, hi = -1;  // Repeat: {lo, hi}, hi = -1 for unbounded

  static Node chars(CharRanges r) {
    Node n{Kind::Chars};
    n.ranges = std::move(r);
    return n;
  }
};

class Builder {
 public:
  // Adds a rule; a second definition of one name is an error.
  void define(const std::string& name, Node body, const std::string& where);
  // Compiles every rule and checks the whole: every referenced rule defined, the start rule
  // present, no left recursion. Throws GrammarError.
  Grammar build(const std::string& root);

 private:
  uint32_t new_rule(const std::string& name);
  void emit(const Node& n, std::vector<Elem>& out);
  Elem single(const Node& n);  // n as one element (an anonymous rule when it takes several)
  Elem chars_elem(const CharRanges& r);
  Elem repeat_elem(Elem x, int64_t count_opt, bool star);
  uint32_t add_set(const ByteSet& s);
  void check_left_recursion() const;

  std::vector<std::pair<std::string, Node>> defs_;
  std::vector<std::string> def_where_;
  std::map<std::string, uint32_t> ids_;
  // Per rule: alternatives as element runs (End appended at flattening).
  std::vector<std::vector<std::vector<Elem>>> rules_;
  std::vector<std::string> names_;
  std::vector<ByteSet> sets_;
  std::map<CharRanges, Elem> chars_cache_;
  std::map<std::tuple<int, uint32_t, int64_t>, uint32_t> repeat_cache_;
};

// The UTF-8 encodings of the code points in [lo, hi] (surrogates excluded) as sequences of byte
// ranges: each sequence matches exactly the encodings of a sub-range. Exposed for tests.
std::vector<std::vector<std::pair<uint8_t, uint8_t>>> utf8_sequences(char32_t lo, char32_t hi);

}  // namespace minima::grammar
