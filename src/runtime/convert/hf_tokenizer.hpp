// The tokenizer of a Hugging Face checkpoint as GGUF metadata (tokenizer.ggml.*), the way
// llama.cpp's converter writes it, so both engines tokenize a converted file alike:
//   * SentencePiece models (Llama 1/2, Mistral-style): tokenizer.model (the SentencePiece
//     protobuf: pieces, scores, types) → model "llama";
//   * byte-level BPE (GPT-2 / Llama 3 / Qwen2 / Qwen3): tokenizer.json (vocab, merges,
//     added_tokens; the pre-tokenizer regex picks tokenizer.ggml.pre: llama-bpe, qwen2, gpt-2)
//     → model "gpt2".
// Special tokens and flags come from tokenizer_config.json (bos/eos/unk/pad tokens, add_bos_token,
// add_eos_token, chat_template), then config.json's *_token_id. Ids the model has beyond the
// vocabulary are padded with "[PAD<id>]" tokens of type UNUSED, as llama.cpp does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/gguf/writer.hpp"

namespace minima {

// Writes the keys into w; n_vocab: the model's embedding rows (the token list is padded to it;
// a vocabulary larger than the model is an Error). config: config.json. Returns a short
// description ("gpt2 (pre qwen2), 151936 tokens").
std::string convert_hf_tokenizer(const std::filesystem::path& dir, const nlohmann::json& config,
                                 int64_t n_vocab, GgufWriter& w);

}  // namespace minima
