// Regex pre-tokenizers of byte-level BPE vocabularies, selected by `tokenizer.ggml.pre`.
//
// A pre type is a list of regexes (the Hugging Face tokenizer.json patterns). Each regex is applied
// in turn to every fragment produced by the previous one; both its matches and the unmatched text
// between them become fragments (HF's Split with behaviour "Isolated"). Each fragment is matched
// as its own subject, so anchors and look-arounds never see past it. Patterns are compiled once
// with PCRE2 (UTF + UCP, JIT when available).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace minima::tok {

// What a pre name implies besides its regexes (llama.cpp's per-type defaults).
struct PreSpec {
  std::string_view canonical;  // name the family is known by
  std::vector<std::string_view> regexes;
  bool ignore_merges = false;  // a word that is itself a token is emitted whole
  bool add_bos = false;        // default of add_bos when the key is absent
  bool no_bos = false;         // the family has no BOS token at all (chatglm)
};

// The spec for a pre name (aliases included), or null when unknown.
const PreSpec* find_pre_spec(std::string_view name);
// Comma-separated list of every accepted pre name, for error messages.
std::string supported_pre_names();

class PreTokenizer {
 public:
  // Compiles the spec's regexes; throws Error naming the pattern if PCRE2 rejects one.
  explicit PreTokenizer(const PreSpec& spec);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Splits valid UTF-8 `text` into words, appended to `out` as [begin, end) byte offsets in
  // order. Empty input gives no words. Throws Error if PCRE2 reports a matching failure.
  void split(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> regexes_;
  std::string_view name_;
};

}  // namespace minima::tok
