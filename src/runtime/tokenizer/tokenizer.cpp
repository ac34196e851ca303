#include "runtime/tokenizer/tokenizer.hpp"

#include "core/error.hpp"
#include "runtime/tokenizer/encoders.hpp"
#include "runtime/tokenizer/special_split.hpp"
#include "runtime/tokenizer/vocab.hpp"

namespace minima {

namespace {

bool is_special_attr(TokenAttr a) {
  return a == TokenAttr::Control || a == TokenAttr::Unknown || a == TokenAttr::UserDefined;
}

void check_id(const tok::Vocab& v, TokenId id) {
  if (id < 0 || id >= v.n_tokens()) {
    fail(v.source, ": token id ", id, " out of range (vocabulary has ", v.n_tokens(), " tokens)");
  }
}

// Escapes spaces for SentencePiece, with the prefix space when `prefix`.
std::string spm_escape(std::string_view s, bool prefix) {
  std::string out;
  out.reserve(s.size() + 3);
  if (prefix) out += "\xE2\x96\x81";
  for (const char c : s) {
    if (c == ' ') {
      out += "\xE2\x96\x81";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const tok::Vocab> v) : v_(std::move(v)) {}

Tokenizer Tokenizer::from_gguf(const GgufFile& f) {
  return Tokenizer(tok::load_vocab(f));
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  const tok::Vocab& v = *v_;
  if (v.kind == tok::Kind::None) fail(v.source, ": the model has no vocabulary to tokenize with");
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  const std::vector<tok::Fragment> frags = tok::split_specials(v, text, parse_special);

  switch (v.kind) {
    case tok::Kind::Spm: {
      if (add_special && v.add_bos) out.push_back(v.bos);
      // llama.cpp's "legacy" SentencePiece: the first text and every text after a special token
      // get a space prefix.
      bool after_special = true;
      for (const tok::Fragment& fr : frags) {
        if (fr.token >= 0) {
          out.push_back(fr.token);
          after_special = true;
          continue;
        }
        const std::string escaped = spm_escape(text.substr(fr.begin, fr.end - fr.begin),
                                               v.add_space_prefix && after_special);
        tok::spm_encode(v, escaped, out);
        after_special = false;
      }
      if (add_special && v.add_eos) out.push_back(v.eos);
      break;
    }
    case tok::Kind::Bpe:
      if (add_special && v.add_bos) out.push_back(v.bos);
      for (const tok::Fragment& fr : frags) {
        if (fr.token >= 0) {
          out.push_back(fr.token);
        } else {
          tok::bpe_encode(v, text.substr(fr.begin, fr.end - fr.begin), out);
        }
      }
      if (add_special && v.add_eos) out.push_back(v.eos);
      break;
    case tok::Kind::Wpm:
      // BERT inputs are always framed [CLS] ... [SEP], whatever add_bos/add_eos say.
      if (add_special && v.bos >= 0) out.push_back(v.bos);
      for (const tok::Fragment& fr : frags) {
        if (fr.token >= 0) {
          out.push_back(fr.token);
        } else {
          tok::wpm_encode(v, text.substr(fr.begin, fr.end - fr.begin), out);
        }
      }
      if (add_special && v.sep >= 0) out.push_back(v.sep);
      break;
    case tok::Kind::None:
      break;
  }
  return out;
}

std::string Tokenizer::token_to_piece(TokenId id, bool render_special) const {
  std::string out;
  append_piece(id, render_special, out);
  return out;
}

void Tokenizer::append_piece(TokenId id, bool render_special, std::string& out) const {
  const tok::Vocab& v = *v_;
  check_id(v, id);
  const TokenAttr a = v.attr[id];
  if (!render_special && (a == TokenAttr::Control || a == TokenAttr::Unknown)) return;
  out += v.piece[id];
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool render_special) const {
  const tok::Vocab& v = *v_;
  // Spaces encode inserted (see the header): at the start, and for SPM after every special.
  const bool spm_prefix = v.kind == tok::Kind::Spm && v.add_space_prefix;
  bool strip_next = spm_prefix || v.kind == tok::Kind::Wpm;
  std::string out;
  for (const TokenId id : ids) {
    check_id(v, id);
    const TokenAttr a = v.attr[id];
    if (is_special_attr(a)) {
      if (render_special || a == TokenAttr::UserDefined) out += v.piece[id];
      strip_next = strip_next || spm_prefix;
      continue;
    }
    const std::string& p = v.piece[id];
    if (p.empty()) continue;
    if (strip_next && p.front() == ' ') {
      out.append(p, 1);
    } else {
      out += p;
    }
    strip_next = false;
  }
  return out;
}

int32_t Tokenizer::n_vocab() const {
  return v_->n_tokens();
}
TokenId Tokenizer::bos() const {
  return v_->bos;
}
TokenId Tokenizer::eos() const {
  return v_->eos;
}
TokenId Tokenizer::eot() const {
  return v_->eot;
}
bool Tokenizer::is_eog(TokenId id) const {
  return id >= 0 && id < v_->n_tokens() && v_->eog[id] != 0;
}
bool Tokenizer::add_bos() const {
  return v_->add_bos;
}
bool Tokenizer::add_eos() const {
  return v_->add_eos;
}
std::string_view Tokenizer::model_name() const {
  return v_->model_name;
}
std::string_view Tokenizer::pre_name() const {
  return v_->pre_name;
}

const std::string& Tokenizer::token_text(TokenId id) const {
  check_id(*v_, id);
  return v_->text[id];
}

TokenAttr Tokenizer::attr(TokenId id) const {
  check_id(*v_, id);
  return v_->attr[id];
}

std::optional<TokenId> Tokenizer::find(std::string_view token_text) const {
  const TokenId id = v_->lookup(token_text);
  if (id < 0) return std::nullopt;
  return id;
}

}  // namespace minima
