#include "runtime/tokenizer/special_split.hpp"

namespace minima::tok {

namespace {

bool is_c_space(char c) {  // C isspace() in the "C" locale, as llama.cpp strips
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Splits one text fragment [b, e) on every occurrence of token `id`, appending to `out`.
void split_one(const Vocab& v, std::string_view text, TokenId id, size_t b, size_t e,
               std::vector<Fragment>& out) {
  const std::string& t = v.text[id];
  const uint8_t strip = v.strip[id];
  while (b < e) {
    const size_t m = text.substr(0, e).find(t, b);
    if (m == std::string_view::npos) break;
    size_t left_end = m;
    if (strip & kStripLeft) {
      while (left_end > b && is_c_space(text[left_end - 1])) --left_end;
    }
    if (left_end > b) out.push_back({-1, b, left_end});
    out.push_back({id, 0, 0});
    b = m + t.size();
    if (strip & kStripRight) {
      while (b < e && is_c_space(text[b])) ++b;
    }
  }
  if (b < e) out.push_back({-1, b, e});
}

}  // namespace

std::vector<Fragment> split_specials(const Vocab& v, std::string_view text, bool parse_special) {
  std::vector<Fragment> cur;
  if (text.empty()) return cur;
  cur.push_back({-1, 0, text.size()});
  std::vector<Fragment> next;
  for (const TokenId id : v.specials) {
    const TokenAttr a = v.attr[id];
    if (!parse_special && (a == TokenAttr::Control || a == TokenAttr::Unknown)) continue;
    // Most special tokens never occur: one scan of the whole input rules them out cheaply.
    if (text.find(v.text[id]) == std::string_view::npos) continue;
    next.clear();
    for (const Fragment& fr : cur) {
      if (fr.token >= 0) {
        next.push_back(fr);
      } else {
        split_one(v, text, id, fr.begin, fr.end, next);
      }
    }
    cur.swap(next);
  }
  return cur;
}

}  // namespace minima::tok
