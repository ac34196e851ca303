#include "runtime/tokenizer/vocab_specials.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <span>
#include <string>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"

namespace minima::tok {

namespace {

// Texts llama.cpp recognises when no key names the token. The first one found (in this order)
// wins; such a token is forced to CONTROL, as llama.cpp does ("control-looking token").
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",         "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<｜end▁of▁sentence｜>", "<end_of_utterance>"};
constexpr std::string_view kEomTexts[] = {"<|eom_id|>"};
constexpr std::string_view kFimPreTexts[] = {"<|fim_prefix|>",  "<fim-prefix>", "<fim_prefix>",
                                             "<｜fim▁begin｜>", "<PRE>",        "▁<PRE>",
                                             "<|code_prefix|>"};
constexpr std::string_view kFimSufTexts[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                                             "<｜fim▁hole｜>", "<SUF>",        "▁<SUF>",
                                             "<|code_suffix|>"};
constexpr std::string_view kFimMidTexts[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                                             "<｜fim▁end｜>",  "<MID>",        "▁<MID>",
                                             "<|code_middle|>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                             "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>", "<file_sep>"};
// Every token with one of these texts ends generation (and is forced to CONTROL). "</s>" is in
// the 2026 llama.cpp list: it turns Qwen's ordinary BPE token "</s>" and Phi-3's user-defined one
// into control tokens.
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>",      "<|im_end|>",         "<|end|>",    "<|return|>", "<|call|>",
    "<end_of_turn>",   "<|endoftext|>",      "<|eom_id|>", "<EOT>",      "_<EOT>",
    "<|end_of_text|>", "<end_of_utterance>", "</s>"};

// Reads an id key; a value outside [0, n) is ignored (llama.cpp warns and keeps the default).
void read_id(const GgufFile& f, const Vocab& v, std::string_view key, TokenId& id) {
  const auto val = f.get_int(key);
  if (val && *val >= 0 && *val < v.n_tokens()) id = static_cast<TokenId>(*val);
}

void force_control(Vocab& v, TokenId id) {
  if (v.attr[id] != TokenAttr::Control) v.attr[id] = TokenAttr::Control;
}

// Sets `id` from the first text of the list found in the vocabulary, unless a key set it.
void detect(Vocab& v, std::span<const std::string_view> texts, TokenId& id) {
  if (id >= 0) return;
  for (const auto t : texts) {
    const TokenId found = v.lookup(t);
    if (found >= 0) {
      id = found;
      force_control(v, found);
      return;
    }
  }
}

bool contains_any(std::string_view s, std::initializer_list<std::string_view> subs) {
  return std::any_of(subs.begin(), subs.end(),
                     [&](std::string_view x) { return s.find(x) != std::string_view::npos; });
}

// LSTRIP/RSTRIP are not stored in GGUF; llama.cpp sets them by model and pre name.
void set_strip_flags(const GgufFile& f, Vocab& v) {
  v.strip.assign(v.text.size(), 0);
  std::string name = f.get_string("general.name").value_or("");
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto set = [&](std::string_view text, uint8_t flag, bool on) {
    const TokenId id = v.lookup(text);
    if (id < 0) return;
    v.strip[id] = on ? (v.strip[id] | flag) : (v.strip[id] & ~flag);
  };
  if (contains_any(v.pre_name, {"jina-v2-de", "jina-v2-es", "jina-v2-code"})) {
    set("<mask>", kStripLeft, true);
  } else if (contains_any(name, {"phi-3", "phi3"})) {
    // Phi-3's chat markers eat the whitespace after them, except the sequence markers.
    for (const TokenId id : v.specials) v.strip[id] |= kStripRight;
    set("</s>", kStripRight, true);
    for (const auto t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, kStripRight, false);
  }
}

std::string spm_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "\xE2\x96\x81") == 0) {  // U+2581 LOWER ONE EIGHTH BLOCK
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// "<0xAB>" → byte 0xAB; -1 when the text has another form.
int parse_byte_token(std::string_view s) {
  if (s.size() != 6 || s.substr(0, 3) != "<0x" || s[5] != '>') return -1;
  int value = 0;
  for (const char c : s.substr(3, 2)) {
    const int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                  : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                  : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                                                              : -1;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

void build_pieces(Vocab& v) {
  v.piece.resize(v.text.size());
  for (size_t id = 0; id < v.text.size(); ++id) {
    const std::string& t = v.text[id];
    switch (v.attr[id]) {
      case TokenAttr::Control:
      case TokenAttr::Unknown:
      case TokenAttr::UserDefined:
        v.piece[id] = t;
        break;
      case TokenAttr::Unused:
        v.piece[id].clear();
        break;
      case TokenAttr::Byte: {
        const int b = parse_byte_token(t);
        v.piece[id] = b >= 0 ? std::string(1, static_cast<char>(b)) : t;
        break;
      }
      case TokenAttr::Normal:
        v.piece[id] = v.kind == Kind::Bpe ? v.byte_level.decode(t) : spm_unescape(t);
        break;
    }
  }
}

}  // namespace

void resolve_specials(const GgufFile& f, Vocab& v, bool no_bos) {
  const TokenId n = v.n_tokens();
  auto in_range = [n](TokenId id) { return id >= 0 && id < n ? id : TokenId{-1}; };
  TokenId eom = -1, fim_pre = -1, fim_suf = -1, fim_mid = -1, fim_pad = -1, fim_rep = -1,
          fim_sep = -1;
  switch (v.kind) {
    case Kind::Spm:
      v.bos = in_range(1), v.eos = in_range(2), v.unk = in_range(0);
      break;
    case Kind::Wpm:  // BERT: [CLS] opens, [SEP] closes
      v.bos = in_range(101), v.unk = in_range(100), v.sep = in_range(102), v.pad = in_range(0);
      break;
    case Kind::Bpe:  // llama.cpp's historical default for gpt2 vocabularies
      v.bos = no_bos ? -1 : in_range(11), v.eos = in_range(11);
      break;
    case Kind::None:
      break;
  }
  if (v.kind == Kind::Wpm && !f.find("tokenizer.ggml.bos_token_id")) {
    read_id(f, v, "tokenizer.ggml.cls_token_id", v.bos);
  }
  read_id(f, v, "tokenizer.ggml.bos_token_id", v.bos);
  read_id(f, v, "tokenizer.ggml.eos_token_id", v.eos);
  read_id(f, v, "tokenizer.ggml.eot_token_id", v.eot);
  read_id(f, v, "tokenizer.ggml.eom_token_id", eom);
  read_id(f, v, "tokenizer.ggml.unknown_token_id", v.unk);
  read_id(f, v, "tokenizer.ggml.seperator_token_id", v.sep);  // sic: the GGUF key's spelling
  read_id(f, v, "tokenizer.ggml.padding_token_id", v.pad);
  read_id(f, v, "tokenizer.ggml.fim_pre_token_id", fim_pre);
  read_id(f, v, "tokenizer.ggml.fim_suf_token_id", fim_suf);
  read_id(f, v, "tokenizer.ggml.fim_mid_token_id", fim_mid);
  read_id(f, v, "tokenizer.ggml.fim_pad_token_id", fim_pad);
  read_id(f, v, "tokenizer.ggml.fim_rep_token_id", fim_rep);
  read_id(f, v, "tokenizer.ggml.fim_sep_token_id", fim_sep);
  read_id(f, v, "tokenizer.ggml.prefix_token_id", fim_pre);  // older names of the FIM keys
  read_id(f, v, "tokenizer.ggml.suffix_token_id", fim_suf);
  read_id(f, v, "tokenizer.ggml.middle_token_id", fim_mid);

  // A default that cannot be honoured is dropped; an explicit request for a missing id is an error.
  const auto add_bos_key = f.get_bool("tokenizer.ggml.add_bos_token");
  const auto add_eos_key = f.get_bool("tokenizer.ggml.add_eos_token");
  v.add_bos = add_bos_key.value_or(v.add_bos && v.bos >= 0);
  v.add_eos = add_eos_key.value_or(v.add_eos && v.eos >= 0);
  if (v.kind != Kind::Wpm && v.add_bos && v.bos < 0) {
    fail(f.name(),
         ": metadata 'tokenizer.ggml.add_bos_token': BOS requested but "
         "'tokenizer.ggml.bos_token_id' is missing or out of range");
  }
  if (v.kind != Kind::Wpm && v.add_eos && v.eos < 0) {
    fail(f.name(),
         ": metadata 'tokenizer.ggml.add_eos_token': EOS requested but "
         "'tokenizer.ggml.eos_token_id' is missing or out of range");
  }

  detect(v, kEotTexts, v.eot);
  detect(v, kEomTexts, eom);
  detect(v, kFimPreTexts, fim_pre);
  detect(v, kFimSufTexts, fim_suf);
  detect(v, kFimMidTexts, fim_mid);
  detect(v, kFimPadTexts, fim_pad);
  detect(v, kFimRepTexts, fim_rep);
  detect(v, kFimSepTexts, fim_sep);

  v.eog.assign(v.text.size(), 0);
  for (const auto t : kEogTexts) {
    const TokenId id = v.lookup(t);
    if (id >= 0) {
      v.eog[id] = 1;
      force_control(v, id);
    }
  }
  for (const TokenId id : {v.eos, v.eot, eom, fim_pad, fim_rep, fim_sep}) {
    if (id >= 0) v.eog[id] = 1;
  }

  for (TokenId id = 0; id < n; ++id) {
    const TokenAttr a = v.attr[id];
    if (a == TokenAttr::Control || a == TokenAttr::UserDefined || a == TokenAttr::Unknown) {
      v.specials.push_back(id);
    }
  }
  std::stable_sort(v.specials.begin(), v.specials.end(),
                   [&](TokenId a, TokenId b) { return v.text[a].size() > v.text[b].size(); });
  set_strip_flags(f, v);
  build_pieces(v);
}

}  // namespace minima::tok
