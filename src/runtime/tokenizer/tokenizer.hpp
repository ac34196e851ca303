// Tokenizers built from the `tokenizer.ggml.*` metadata of a GGUF file, with llama.cpp's
// llama_tokenize / llama_token_to_piece semantics:
//   * "llama" → SentencePiece-style BPE over scores (SPM), with byte fallback;
//   * "gpt2"  → byte-level BPE over ranked merges, after a regex pre-tokenizer chosen by
//               `tokenizer.ggml.pre`;
//   * "bert"  → WordPiece (WPM), greedy longest match after BERT normalisation;
//   * "none"  → no vocabulary (encode throws).
// A Tokenizer is immutable after from_gguf and cheap to copy (shared state); encode/decode are
// safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace minima {

class GgufFile;

using TokenId = int32_t;

// From tokenizer.ggml.token_type (llama.cpp's values 1..6; 0/undefined or absent → Normal).
enum class TokenAttr : uint8_t { Normal, Unknown, Control, UserDefined, Unused, Byte };

namespace tok {
struct Vocab;
}

class Tokenizer {
 public:
  // Throws minima::Error naming the file and the key on missing or inconsistent metadata.
  static Tokenizer from_gguf(const GgufFile& f);

  // llama_tokenize semantics. add_special: BOS/EOS as the vocabulary asks (WPM: always CLS…SEP).
  // parse_special: also match CONTROL/UNKNOWN token texts (USER_DEFINED ones always match).
  // Invalid UTF-8 never throws: SPM falls back to byte tokens, BPE and WPM see U+FFFD.
  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const;

  // Bytes of one token: SPM/WPM '▁' → ' ', byte tokens → the raw byte, BPE byte-level
  // characters → bytes. CONTROL and UNKNOWN tokens give their text only if render_special, else
  // "". UNUSED tokens give "". Throws Error on an id outside [0, n_vocab).
  std::string token_to_piece(TokenId id, bool render_special) const;
  // Same bytes appended to `out` (no allocation once `out` has capacity: for token loops).
  void append_piece(TokenId id, bool render_special, std::string& out) const;

  // Inverse of encode: the concatenation of the pieces, except that for vocabularies that add a
  // space prefix on encode (SPM with add_space_prefix) one leading space is removed from the text
  // at the start and after every special (CONTROL/USER_DEFINED/UNKNOWN) token — the exact spaces
  // encode inserted. WPM drops the leading space of the first word. No clean-up of spaces before
  // punctuation is done (llama.cpp's clean_spaces), so decode(encode(s)) == s whenever the
  // tokenisation is lossless. Bytes are returned as they are (may be invalid UTF-8).
  std::string decode(std::span<const TokenId> ids, bool render_special) const;

  int32_t n_vocab() const;
  TokenId bos() const;  // -1 when none
  TokenId eos() const;
  TokenId eot() const;
  bool is_eog(TokenId id) const;  // end of generation (eos, eot, <|im_end|>, <|endoftext|>, ...)
  bool add_bos() const;
  bool add_eos() const;
  std::string_view model_name() const;              // "llama" | "gpt2" | "bert" | "none"
  std::string_view pre_name() const;                // tokenizer.ggml.pre, "default" when absent
  const std::string& token_text(TokenId id) const;  // raw vocab string; Error when out of range
  TokenAttr attr(TokenId id) const;                 // after llama.cpp's load-time overrides
  std::optional<TokenId> find(std::string_view token_text) const;

 private:
  explicit Tokenizer(std::shared_ptr<const tok::Vocab> v);
  std::shared_ptr<const tok::Vocab> v_;
};

// Streaming detokenizer: feed ids one at a time, get back only complete UTF-8 (never a broken
// sequence); a partial multi-byte character is held back until complete, bytes that can never
// become valid are replaced by U+FFFD (one per maximal invalid subpart). flush() returns whatever
// is left (an incomplete tail becomes one U+FFFD). Pieces are not space-stripped: the stream is
// the continuation of a prompt. The Tokenizer must outlive the decoder.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool render_special = false);
  std::string push(TokenId id);  // may return ""
  std::string flush();
  // Appending forms of push/flush: no allocation once `out` and the decoder have warmed up.
  void push(TokenId id, std::string& out);
  void flush(std::string& out);
  void reset();

 private:
  const Tokenizer* tok_;
  bool render_special_;
  std::string pending_;  // bytes of an incomplete UTF-8 sequence
};

}  // namespace minima
