#include <algorithm>

#include "runtime/tokenizer/encoders.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima::tok {

namespace {

struct Symbol {
  size_t pos;  // byte offset into the text; live symbols tile the text without gaps
  size_t len;  // 0 once merged into its left neighbour
  int32_t prev, next;
};

struct Bigram {
  float score;
  int32_t left, right;
  size_t size;  // left.len + right.len when queued: a later mismatch means it is stale
};

// Priority: higher score first, then the leftmost pair.
struct Lower {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// Appends the token of a final symbol; a symbol that is not a token (only single characters get
// here) becomes one byte token per byte, or the unknown token without byte tokens.
void emit(const Vocab& v, std::string_view piece, std::vector<TokenId>& out) {
  const TokenId id = v.lookup(piece);
  if (id >= 0) {
    out.push_back(id);
    return;
  }
  for (const char c : piece) {
    const TokenId b = v.byte_token[static_cast<unsigned char>(c)];
    if (b >= 0) {
      out.push_back(b);
    } else if (v.unk >= 0) {
      out.push_back(v.unk);
    }
  }
}

}  // namespace

void spm_encode(const Vocab& v, std::string_view text, std::vector<TokenId>& out) {
  std::vector<Symbol> sym;
  sym.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t len =
        std::min(utf8::lead_length(static_cast<unsigned char>(text[pos])), text.size() - pos);
    const auto i = static_cast<int32_t>(sym.size());
    sym.push_back({pos, len, i - 1, i + 1});
    pos += len;
  }

  std::vector<Bigram> heap;  // ordered by Lower: heap.front() is the next merge
  auto try_pair = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const size_t size = sym[l].len + sym[r].len;
    if (size > v.max_token_len) return;
    const TokenId id = v.lookup(text.substr(sym[l].pos, size));
    if (id < 0) return;
    heap.push_back({v.score[id], l, r, size});
    std::push_heap(heap.begin(), heap.end(), Lower{});
  };
  auto is_space_mark = [&](size_t pos) { return text.compare(pos, 3, kSpaceMark) == 0; };

  // Runs the merges over symbols [a, b) as if they were the whole text.
  auto merge_run = [&](int32_t a, int32_t b) {
    sym[a].prev = -1;
    sym[b - 1].next = -1;
    heap.clear();
    for (int32_t i = a + 1; i < b; ++i) try_pair(i - 1, i);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), Lower{});
      const Bigram bg = heap.back();
      heap.pop_back();
      Symbol& l = sym[bg.left];
      Symbol& r = sym[bg.right];
      // Merges only grow a left symbol and empty a right one, so sizes expose stale pairs.
      if (l.len == 0 || r.len == 0 || l.len + r.len != bg.size) continue;
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = bg.left;
      try_pair(l.prev, bg.left);
      try_pair(bg.left, l.next);
    }
    for (int32_t i = a; i >= 0; i = sym[i].next) emit(v, text.substr(sym[i].pos, sym[i].len), out);
  };

  // When no token has a space mark after other text (Vocab::spm_cut_before_space), no merge can
  // cross the start of a word, so each word is merged on its own: the same result as one pass
  // over the whole text, with small heaps instead of one as large as the input.
  const auto n = static_cast<int32_t>(sym.size());
  int32_t run = 0;
  for (int32_t i = 1; i < n && v.spm_cut_before_space; ++i) {
    if (is_space_mark(sym[i].pos) && !(sym[i - 1].len == 3 && is_space_mark(sym[i - 1].pos))) {
      merge_run(run, i);
      run = i;
    }
  }
  if (run < n) merge_run(run, n);
}

}  // namespace minima::tok
