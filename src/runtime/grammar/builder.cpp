#include "runtime/grammar/builder.hpp"

#include <algorithm>
#include <sstream>
#include <tuple>

namespace minima::grammar {
namespace {

template <class... P>
[[noreturn]] void grammar_fail(P&&... parts) {
  std::ostringstream os;
  (os << ... << std::forward<P>(parts));
  throw GrammarError(os.str());
}

int utf8_len(char32_t c) {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

void encode(char32_t c, uint8_t* b) {
  switch (utf8_len(c)) {
    case 1:
      b[0] = uint8_t(c);
      break;
    case 2:
      b[0] = uint8_t(0xC0 | (c >> 6));
      b[1] = uint8_t(0x80 | (c & 0x3F));
      break;
    case 3:
      b[0] = uint8_t(0xE0 | (c >> 12));
      b[1] = uint8_t(0x80 | ((c >> 6) & 0x3F));
      b[2] = uint8_t(0x80 | (c & 0x3F));
      break;
    default:
      b[0] = uint8_t(0xF0 | (c >> 18));
      b[1] = uint8_t(0x80 | ((c >> 12) & 0x3F));
      b[2] = uint8_t(0x80 | ((c >> 6) & 0x3F));
      b[3] = uint8_t(0x80 | (c & 0x3F));
  }
}

using Seqs = std::vector<std::vector<std::pair<uint8_t, uint8_t>>>;

// Splits [lo, hi] until its encodings are one product of byte ranges: same length, and for each
// trailing 6-bit group either the whole group varies or the prefix above it is fixed.
void split(char32_t lo, char32_t hi, Seqs& out) {
  if (lo > hi) return;
  if (lo <= 0xDFFF && hi >= 0xD800) {
    if (lo < 0xD800) split(lo, 0xD7FF, out);
    if (hi > 0xDFFF) split(0xE000, hi, out);
    return;
  }
  for (char32_t max : {char32_t{0x7F}, char32_t{0x7FF}, char32_t{0xFFFF}}) {
    if (lo <= max && hi > max) {
      split(lo, max, out);
      split(max + 1, hi, out);
      return;
    }
  }
  const int n = utf8_len(lo);
  for (int i = 1; i < n; ++i) {
    const char32_t m = (char32_t{1} << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        split(lo, lo | m, out);
        split((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        split(lo, (hi & ~m) - 1, out);
        split(hi & ~m, hi, out);
        return;
      }
    }
  }
  uint8_t a[4], b[4];
  encode(lo, a);
  encode(hi, b);
  std::vector<std::pair<uint8_t, uint8_t>> seq;
  for (int k = 0; k < n; ++k) seq.emplace_back(a[k], b[k]);
  out.push_back(std::move(seq));
}

}  // namespace

std::vector<std::vector<std::pair<uint8_t, uint8_t>>> utf8_sequences(char32_t lo, char32_t hi) {
  Seqs out;
  split(lo, std::min<char32_t>(hi, 0x10FFFF), out);
  return out;
}

void Builder::define(const std::string& name, Node body, const std::string& where) {
  for (const auto& d : defs_)
    if (d.first == name) grammar_fail(where, ": rule '", name, "' is defined twice");
  defs_.emplace_back(name, std::move(body));
  def_where_.push_back(where);
}

uint32_t Builder::new_rule(const std::string& name) {
  rules_.emplace_back();
  names_.push_back(name);
  return static_cast<uint32_t>(rules_.size() - 1);
}

uint32_t Builder::add_set(const ByteSet& s) {
  for (size_t i = 0; i < sets_.size(); ++i)
    if (sets_[i] == s) return static_cast<uint32_t>(i);
  sets_.push_back(s);
  return static_cast<uint32_t>(sets_.size() - 1);
}

Elem Builder::chars_elem(const CharRanges& r) {
  if (auto it = chars_cache_.find(r); it != chars_cache_.end()) return it->second;
  Seqs seqs;
  for (auto [lo, hi] : r) split(lo, std::min<char32_t>(hi, 0x10FFFF), seqs);
  // One-byte sequences share a single set; longer ones are alternatives of their own.
  ByteSet ascii;
  bool any_ascii = false;
  std::vector<std::vector<Elem>> alts;
  for (const auto& s : seqs) {
    if (s.size() == 1) {
      ascii.add(s[0].first, s[0].second);
      any_ascii = true;
      continue;
    }
    std::vector<Elem> alt;
    for (auto [a, b] : s) {
      ByteSet bs;
      bs.add(a, b);
      alt.push_back({Elem::Kind::Bytes, add_set(bs)});
    }
    alts.push_back(std::move(alt));
  }
  Elem e;
  if (alts.empty() && any_ascii) {
    e = {Elem::Kind::Bytes, add_set(ascii)};
  } else {
    if (seqs.empty()) grammar_fail("empty character class (it can never match)");
    if (any_ascii) alts.insert(alts.begin(), {Elem{Elem::Kind::Bytes, add_set(ascii)}});
    const uint32_t id = new_rule("<class>");
    rules_[id] = std::move(alts);
    e = {Elem::Kind::Rule, id};
  }
  chars_cache_.emplace(r, e);
  return e;
}

// star: S ::= x S | ε. Otherwise up to count_opt optional copies: O_k ::= x O_{k-1} | ε.
Elem Builder::repeat_elem(Elem x, int64_t count_opt, bool star) {
  const auto key = std::make_tuple(int(x.kind), x.arg, star ? int64_t{-1} : count_opt);
  if (auto it = repeat_cache_.find(key); it != repeat_cache_.end())
    return {Elem::Kind::Rule, it->second};
  uint32_t id;
  if (star) {
    id = new_rule("<star>");
    rules_[id] = {{x, Elem{Elem::Kind::Rule, id}}, {}};
  } else {
    id = new_rule("<opt>");
    if (count_opt == 1) {
      rules_[id] = {{x}, {}};
    } else {
      const Elem rest = repeat_elem(x, count_opt - 1, false);
      rules_[id] = {{x, rest}, {}};
    }
  }
  repeat_cache_.emplace(key, id);
  return {Elem::Kind::Rule, id};
}

Elem Builder::single(const Node& n) {
  if (n.kind == Node::Kind::Chars) return chars_elem(n.ranges);
  if (n.kind == Node::Kind::Ref) {
    const auto it = ids_.find(n.name);
    if (it == ids_.end()) grammar_fail(n.where, ": rule '", n.name, "' is not defined");
    return {Elem::Kind::Rule, it->second};
  }
  if (n.kind == Node::Kind::Alt && n.kids.size() > 1) {
    std::vector<std::vector<Elem>> alts;
    for (const Node& k : n.kids) {
      std::vector<Elem> a;
      emit(k, a);
      alts.push_back(std::move(a));
    }
    const uint32_t id = new_rule("<group>");
    rules_[id] = std::move(alts);
    return {Elem::Kind::Rule, id};
  }
  std::vector<Elem> run;
  emit(n, run);
  if (run.size() == 1) return run[0];
  const uint32_t id = new_rule("<group>");
  rules_[id] = {std::move(run)};
  return {Elem::Kind::Rule, id};
}

void Builder::emit(const Node& n, std::vector<Elem>& out) {
  switch (n.kind) {
    case Node::Kind::Seq:
      for (const Node& k : n.kids) emit(k, out);
      return;
    case Node::Kind::Alt:
      if (n.kids.size() == 1) {
        emit(n.kids[0], out);
      } else {
        out.push_back(single(n));
      }
      return;
    case Node::Kind::Chars:
    case Node::Kind::Ref:
      out.push_back(single(n));
      return;
    case Node::Kind::Repeat: {
      const Elem x = single(n.kids[0]);
      for (int64_t k = 0; k < n.lo; ++k) out.push_back(x);
      if (n.hi < 0) {
        out.push_back(repeat_elem(x, 0, true));
      } else if (n.hi > n.lo) {
        out.push_back(repeat_elem(x, n.hi - n.lo, false));
      }
      return;
    }
  }
}

Grammar Builder::build(const std::string& root) {
  for (const auto& d : defs_) ids_.emplace(d.first, new_rule(d.first));
  const auto r = ids_.find(root);
  if (r == ids_.end()) grammar_fail("the grammar has no '", root, "' rule to start from");
  for (size_t i = 0; i < defs_.size(); ++i) {
    const Node& body = defs_[i].second;
    std::vector<std::vector<Elem>> alts;
    if (body.kind == Node::Kind::Alt) {
      for (const Node& k : body.kids) {
        std::vector<Elem> a;
        emit(k, a);
        alts.push_back(std::move(a));
      }
    } else {
      std::vector<Elem> a;
      emit(body, a);
      alts.push_back(std::move(a));
    }
    rules_[ids_.at(defs_[i].first)] = std::move(alts);
  }
  check_left_recursion();

  Grammar g;
  g.root_ = r->second;
  g.names_ = names_;
  g.sets_ = sets_;
  g.alts_.resize(rules_.size());
  for (size_t id = 0; id < rules_.size(); ++id) {
    for (const auto& alt : rules_[id]) {
      g.alts_[id].push_back(static_cast<uint32_t>(g.elems_.size()));
      g.elems_.insert(g.elems_.end(), alt.begin(), alt.end());
      g.elems_.push_back(Elem{Elem::Kind::End, 0});
    }
  }
  return g;
}

// A rule that can reach itself without consuming a byte (left recursion, or a cycle through rules
// that match the empty string) would make the matcher's expansion loop forever.
void Builder::check_left_recursion() const {
  const size_t n = rules_.size();
  std::vector<char> nullable(n, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t id = 0; id < n; ++id) {
      if (nullable[id]) continue;
      for (const auto& alt : rules_[id]) {
        bool all = true;
        for (const Elem& e : alt) all = all && e.kind == Elem::Kind::Rule && nullable[e.arg];
        if (all) {
          nullable[id] = 1;
          changed = true;
          break;
        }
      }
    }
  }
  // first[id]: rules reachable at the start of id without consuming anything.
  std::vector<std::vector<uint32_t>> first(n);
  for (size_t id = 0; id < n; ++id)
    for (const auto& alt : rules_[id])
      for (const Elem& e : alt) {
        if (e.kind != Elem::Kind::Rule) break;
        first[id].push_back(e.arg);
        if (!nullable[e.arg]) break;
      }
  std::vector<char> color(n, 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<uint32_t, size_t>> stack;
  for (size_t s = 0; s < n; ++s) {
    if (color[s]) continue;
    stack.emplace_back(uint32_t(s), 0);
    color[s] = 1;
    while (!stack.empty()) {
      auto& [id, k] = stack.back();
      if (k == first[id].size()) {
        color[id] = 2;
        stack.pop_back();
        continue;
      }
      const uint32_t next = first[id][k++];
      if (color[next] == 1) {
        // Name the first user-named rule on the cycle.
        std::string name = names_[next];
        for (auto it = stack.rbegin(); it != stack.rend(); ++it)
          if (names_[it->first][0] != '<') name = names_[it->first];
        grammar_fail("rule '", name,
                     "' is left-recursive (it can reach itself without matching a byte); "
                     "rewrite it with repetition");
      }
      if (color[next] == 0) {
        color[next] = 1;
        stack.emplace_back(next, 0);
      }
    }
  }
}

}  // namespace minima::grammar
