// Reads the token table and flags from GGUF metadata. Special ids, EOG and the load-time type
// overrides are resolved afterwards in vocab_specials.cpp.
#include <algorithm>
#include <cstdio>
#include <string>

#include "core/error.hpp"
#include "model/gguf/gguf.hpp"
#include "runtime/tokenizer/vocab.hpp"
#include "runtime/tokenizer/vocab_specials.hpp"

namespace minima::tok {

namespace {

constexpr std::string_view kModelKey = "tokenizer.ggml.model";
constexpr std::string_view kPreKey = "tokenizer.ggml.pre";
constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";
constexpr std::string_view kScoresKey = "tokenizer.ggml.scores";
constexpr std::string_view kTypesKey = "tokenizer.ggml.token_type";
constexpr std::string_view kMergesKey = "tokenizer.ggml.merges";

Kind kind_of(const GgufFile& f, const std::string& model) {
  if (model == "llama") return Kind::Spm;
  if (model == "gpt2") return Kind::Bpe;
  if (model == "bert") return Kind::Wpm;
  if (model == "none" || model == "no_vocab") return Kind::None;
  fail(f.name(), ": metadata '", kModelKey, "': unsupported tokenizer model '", model,
       "' (supported: llama, gpt2, bert, none)");
}

TokenAttr attr_of(const GgufFile& f, int64_t type, size_t index) {
  // llama.cpp's token types: 0 undefined, 1 normal, 2 unknown, 3 control, 4 user-defined,
  // 5 unused, 6 byte.
  switch (type) {
    case 0:
    case 1:
      return TokenAttr::Normal;
    case 2:
      return TokenAttr::Unknown;
    case 3:
      return TokenAttr::Control;
    case 4:
      return TokenAttr::UserDefined;
    case 5:
      return TokenAttr::Unused;
    case 6:
      return TokenAttr::Byte;
    default:
      fail(f.name(), ": metadata '", kTypesKey, "'[", index, "]: invalid token type ", type,
           " (expected 0..6)");
  }
}

void load_tokens(const GgufFile& f, Vocab& v) {
  const GgufArray* toks = f.get_array(kTokensKey);
  if (toks == nullptr) fail(f.name(), ": metadata '", kTokensKey, "' is missing");
  if (toks->elem_type != GgufType::String) {
    fail(f.name(), ": metadata '", kTokensKey, "': expected an array of strings, found ",
         gguf_type_name(toks->elem_type));
  }
  const size_t n = toks->strings.size();
  if (n == 0) fail(f.name(), ": metadata '", kTokensKey, "' is empty");
  if (n > size_t(INT32_MAX)) fail(f.name(), ": metadata '", kTokensKey, "': too many tokens");

  const GgufArray* scores = f.get_array(kScoresKey);
  if (scores != nullptr && (scores->floats.size() != n || !scores->ints.empty())) {
    fail(f.name(), ": metadata '", kScoresKey, "': ", scores->size(), " numbers of type ",
         gguf_type_name(scores->elem_type), ", expected ", n, " floats (one per token of '",
         kTokensKey, "')");
  }
  const GgufArray* types = f.get_array(kTypesKey);
  if (types != nullptr && types->ints.size() != n) {
    fail(f.name(), ": metadata '", kTypesKey, "': ", types->size(), " entries of type ",
         gguf_type_name(types->elem_type), ", expected ", n, " integers (one per token of '",
         kTokensKey, "')");
  }

  v.text.resize(n);
  v.score.assign(n, 0.0f);
  v.attr.assign(n, TokenAttr::Normal);
  for (size_t i = 0; i < n; ++i) {
    std::string word = toks->strings[i];
    // An empty string cannot be matched or merged; llama.cpp renames it so lookups stay unique.
    if (word.empty()) word = "[EMPTY_" + std::to_string(i) + "]";
    v.max_token_len = std::max(v.max_token_len, word.size());
    v.text[i] = std::move(word);
    if (scores != nullptr) v.score[i] = static_cast<float>(scores->floats[i]);
    if (types != nullptr) v.attr[i] = attr_of(f, types->ints[i], i);
  }
  TokenId dup = -1;
  const TokenId first = v.index.build(v.text, dup);
  if (first >= 0) {
    fail(f.name(), ": metadata '", kTokensKey, "': token ", dup, " repeats the text of token ",
         first, " ('", v.text[first], "')");
  }
}

void load_merges(const GgufFile& f, Vocab& v) {
  const GgufArray* merges = f.get_array(kMergesKey);
  if (merges == nullptr)
    fail(f.name(), ": metadata '", kMergesKey, "' is missing (needed by gpt2)");
  if (merges->elem_type != GgufType::String) {
    fail(f.name(), ": metadata '", kMergesKey, "': expected an array of strings, found ",
         gguf_type_name(merges->elem_type));
  }
  v.merges.reserve(merges->strings.size());
  for (size_t i = 0; i < merges->strings.size(); ++i) {
    const std::string_view m = merges->strings[i];
    // "left right": the separator is the first space after the first byte, so a left part may
    // itself be a space in vocabularies that store raw text.
    const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (sp == std::string_view::npos) {
      fail(f.name(), ": metadata '", kMergesKey, "'[", i, "]: '", m, "' is not \"left right\"");
    }
    const std::string_view left = m.substr(0, sp), right = m.substr(sp + 1);
    const TokenId l = v.lookup(left), r = v.lookup(right);
    std::string joined(left);
    joined += right;
    const TokenId merged = v.lookup(joined);
    if (l < 0 || r < 0 || merged < 0) {
      fail(f.name(), ": metadata '", kMergesKey, "'[", i, "]: '", m,
           "' names a token missing from '", kTokensKey, "' ('",
           l < 0   ? left
           : r < 0 ? right
                   : std::string_view(joined),
           "')");
    }
    v.merges.insert(l, r, static_cast<int32_t>(i), merged);
  }
}

// True when every U+2581 in every token is at its start or follows another U+2581.
bool no_space_mark_inside(const std::vector<std::string>& texts) {
  constexpr std::string_view mark = "\xE2\x96\x81";
  for (const std::string& t : texts) {
    for (size_t p = t.find(mark, 1); p != std::string::npos; p = t.find(mark, p + 1)) {
      if (p < 3 || std::string_view(t).substr(p - 3, 3) != mark) return false;
    }
  }
  return true;
}

}  // namespace

std::shared_ptr<const Vocab> load_vocab(const GgufFile& f) {
  auto v = std::make_shared<Vocab>();
  v->source = f.name();
  const auto model = f.get_string(kModelKey);
  if (!model) fail(f.name(), ": metadata '", kModelKey, "' is missing");
  v->model_name = *model;
  v->kind = kind_of(f, *model);
  if (v->model_name == "no_vocab") v->model_name = "none";
  v->pre_name = f.get_string(kPreKey).value_or("default");
  if (v->pre_name.empty()) v->pre_name = "default";

  if (v->kind == Kind::None) {
    // No vocabulary: only the size is known (from the token list if any, else the hparams).
    if (const GgufArray* toks = f.get_array(kTokensKey); toks != nullptr) {
      v->text = toks->strings;
    } else {
      const std::string arch = f.get_string("general.architecture").value_or("");
      const auto n = f.get_u32(arch + ".vocab_size");
      v->text.resize(n.value_or(0));
    }
    v->score.assign(v->text.size(), 0.0f);
    v->attr.assign(v->text.size(), TokenAttr::Normal);
    v->strip.assign(v->text.size(), 0);
    v->piece = v->text;
    v->eog.assign(v->text.size(), 0);
    return v;
  }

  const PreSpec* spec = nullptr;
  if (v->kind == Kind::Bpe) {
    spec = find_pre_spec(v->pre_name);
    if (spec == nullptr) {
      fail(f.name(), ": metadata '", kPreKey, "': unsupported pre-tokenizer '", v->pre_name,
           "' (supported: ", supported_pre_names(), ")");
    }
  }

  load_tokens(f, *v);
  switch (v->kind) {
    case Kind::Spm:
      v->add_bos = true;
      v->add_space_prefix = true;
      for (int b = 0; b < 256; ++b) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "<0x%02X>", b);
        TokenId id = v->lookup(hex);
        if (id < 0) id = v->lookup(std::string(1, static_cast<char>(b)));
        v->byte_token[b] = id;
      }
      v->spm_cut_before_space = no_space_mark_inside(v->text);
      break;
    case Kind::Wpm:
      v->add_bos = true;
      break;
    case Kind::Bpe:
      v->add_bos = spec->add_bos;
      v->ignore_merges = spec->ignore_merges;
      load_merges(f, *v);
      for (int b = 0; b < 256; ++b) {
        v->byte_level_token[b] = v->lookup(v->byte_level.encode(static_cast<unsigned char>(b)));
      }
      v->pre = std::make_unique<PreTokenizer>(*spec);
      break;
    case Kind::None:
      break;
  }
  if (const auto p = f.get_bool("tokenizer.ggml.add_space_prefix")) v->add_space_prefix = *p;

  resolve_specials(f, *v, spec != nullptr && spec->no_bos);
  return v;
}

}  // namespace minima::tok
