// A trained byte-level BPE vocabulary and its GGUF form (`tokenizer.ggml.*` metadata), written by
// `minima tokenizer-train` into a tensor-less GGUF and copied into every exported model.
//
// The layout is the one llama.cpp and minima load as a "gpt2" tokenizer with the "qwen2"
// pre-tokenizer: the 256 byte tokens in byte order, then one token per merge that made a new
// string (merge order), then the special tokens, last, as CONTROL tokens.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minima {

class GgufWriter;
class GgufFile;

namespace train {

// The special tokens every trained vocabulary ends with, in this order. <|endoftext|> separates
// documents (and is BOS and padding), <|im_start|> / <|im_end|> frame ChatML turns (<|im_end|> is
// EOS, so a chat model stops after its turn).
inline constexpr std::array<std::string_view, 3> kBpeSpecialTokens = {"<|endoftext|>",
                                                                      "<|im_start|>", "<|im_end|>"};

// The Jinja chat template stored with the vocabulary: ChatML over messages with role and content;
// add_generation_prompt opens the assistant's turn.
extern const std::string_view kChatmlTemplate;

struct BpeVocab {
  std::string name;                  // general.name
  std::vector<std::string> tokens;   // byte-level text (GPT-2 mapping); the specials last
  std::vector<int32_t> token_types;  // llama.cpp's values: 1 normal, 3 control
  std::vector<std::string> merges;   // "left right" in byte-level text, in merge order
  int32_t bos_id = -1;               // <|endoftext|>
  int32_t eos_id = -1;               // <|im_end|>
  int32_t pad_id = -1;               // <|endoftext|>

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
};

// Appends kBpeSpecialTokens after the normal tokens as CONTROL tokens and sets the bos, eos and
// padding ids. Error if a special text is already a token.
void append_bpe_specials(BpeVocab& v);

// The tokenizer metadata: general.name, tokenizer.ggml.{model, pre, tokens, token_type, merges,
// bos/eos/padding_token_id, add_bos_token} and tokenizer.chat_template. Error if the vocabulary
// is inconsistent (sizes differ, a special id out of range).
void write_bpe_tokenizer_metadata(GgufWriter& w, const BpeVocab& v);

// Reads the vocabulary back from a file written as above (so an exporter can copy it into a
// model). Error naming the file and key when a key is missing or has the wrong type.
BpeVocab read_bpe_vocab(const GgufFile& f);

}  // namespace train
}  // namespace minima
