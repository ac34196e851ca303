// The immutable state behind a Tokenizer: the token table, special ids and flags as llama.cpp
// resolves them at load time, plus what each algorithm needs (BPE merges and pre-tokenizer, SPM
// byte fallback). Internal to src/runtime/tokenizer.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/tokenizer/byte_level.hpp"
#include "runtime/tokenizer/merge_table.hpp"
#include "runtime/tokenizer/pre_tokenizer.hpp"
#include "runtime/tokenizer/token_index.hpp"
#include "runtime/tokenizer/tokenizer.hpp"

namespace minima::tok {

enum class Kind : uint8_t { None, Spm, Bpe, Wpm };

// Whitespace a special token swallows next to it when it is matched in text (llama.cpp's
// LSTRIP/RSTRIP attributes, which GGUF does not store: set by model name at load).
enum StripFlags : uint8_t { kStripLeft = 1, kStripRight = 2 };

struct Vocab {
  Vocab() = default;
  Vocab(const Vocab&) = delete;  // `index` refers to `text`
  Vocab& operator=(const Vocab&) = delete;

  Kind kind = Kind::None;
  std::string source;      // file name, for messages
  std::string model_name;  // tokenizer.ggml.model
  std::string pre_name;    // tokenizer.ggml.pre ("default" when absent)

  // Per token, indexed by id.
  std::vector<std::string> text;
  std::vector<float> score;
  std::vector<TokenAttr> attr;
  std::vector<uint8_t> strip;      // StripFlags
  std::vector<std::string> piece;  // token_to_piece(id, render_special=true)
  std::vector<uint8_t> eog;        // 1 when the id ends generation
  TokenIndex index;                // text → id over `text`
  size_t max_token_len = 0;        // bytes

  TokenId bos = -1, eos = -1, eot = -1, unk = -1, sep = -1, pad = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: a space before the first text and after specials

  // Tokens matched in text before the algorithm runs (CONTROL, USER_DEFINED, UNKNOWN), longest
  // text first, then by id.
  std::vector<TokenId> specials;

  // SPM: true when no token holds U+2581 right after other text, so words merge independently.
  bool spm_cut_before_space = false;
  // SPM: id of the byte-fallback token for each byte ("<0xAB>", else the 1-byte text), or -1.
  std::array<TokenId, 256> byte_token{};

  // BPE.
  ByteLevel byte_level;
  std::array<TokenId, 256> byte_level_token{};  // token of each byte's byte-level character
  MergeTable merges;
  std::unique_ptr<PreTokenizer> pre;
  bool ignore_merges = false;

  TokenId lookup(std::string_view s) const { return index.find(s, text); }
  int32_t n_tokens() const { return static_cast<int32_t>(text.size()); }
};

// Builds the vocabulary from a GGUF's metadata (vocab_load.cpp).
std::shared_ptr<const Vocab> load_vocab(const GgufFile& f);

}  // namespace minima::tok
