#include "runtime/tokenizer/tokenizer.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima {

namespace {

// Moves every complete or definitely invalid sequence of `pending` to `out`, leaving only an
// unfinished valid prefix in `pending`. With `final`, that prefix becomes U+FFFD too.
void drain(std::string& pending, bool final, std::string& out) {
  size_t i = 0;
  while (i < pending.size()) {
    const utf8::ScanResult r = utf8::scan(pending, i);
    if (r.kind == utf8::Scan::Incomplete && !final) break;
    if (r.kind == utf8::Scan::Valid) {
      out.append(pending, i, r.len);
    } else {
      utf8::append(out, utf8::kReplacement);
    }
    i += r.len;
  }
  pending.erase(0, i);
}

}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tok, bool render_special)
    : tok_(&tok), render_special_(render_special) {}

void StreamDecoder::push(TokenId id, std::string& out) {
  tok_->append_piece(id, render_special_, pending_);
  drain(pending_, false, out);
}

void StreamDecoder::flush(std::string& out) {
  drain(pending_, true, out);
}

std::string StreamDecoder::push(TokenId id) {
  std::string out;
  push(id, out);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  flush(out);
  return out;
}

void StreamDecoder::reset() {
  pending_.clear();
}

}  // namespace minima
