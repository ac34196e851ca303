// Shared helpers of the tokenizer tests: loading the reference vocabularies of
// ../shared/tokenizers (cached, they take a while to parse) and their test vectors.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/gguf/gguf.hpp"
#include "runtime/tokenizer/tokenizer.hpp"
#include "support/test_support.hpp"

namespace minima::test {

inline std::filesystem::path vocab_path(const std::string& name) {
  return shared_dir() / "tokenizers" / ("ggml-vocab-" + name + ".gguf");
}

// One Tokenizer per vocabulary for the whole test binary.
inline const Tokenizer& reference_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) {
    const GgufFile f = GgufFile::open(vocab_path(name));
    slot = std::make_unique<Tokenizer>(Tokenizer::from_gguf(f));
  }
  return *slot;
}

struct VocabVectors {
  std::vector<std::string> inputs;
  std::vector<std::vector<TokenId>> expected;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads NAME.gguf.inp / .out (format in ../shared/tokenizers/README.md).
inline VocabVectors read_vectors(const std::string& name) {
  const auto base = vocab_path(name).string();
  VocabVectors v;
  const std::string inp = slurp(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  for (size_t pos = 0;;) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;  // the text after the last separator is empty
    v.inputs.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::istringstream out(slurp(base + ".out"));
  for (std::string line; std::getline(out, line);) {
    std::istringstream ls(line);
    std::vector<TokenId> ids;
    for (TokenId id; ls >> id;) ids.push_back(id);
    v.expected.push_back(std::move(ids));
  }
  return v;
}

// The token list as "[a, b, c]".
inline std::string ids_to_string(const std::vector<TokenId>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

// The 12 reference vocabularies, and the byte-level BPE ones among them.
inline const std::vector<std::string>& all_vocabs() {
  static const std::vector<std::string> v = {
      "llama-spm",      "phi-3",  "llama-bpe", "qwen2",  "gpt-2", "deepseek-llm",
      "deepseek-coder", "falcon", "starcoder", "refact", "mpt",   "bert-bge"};
  return v;
}
inline const std::vector<std::string>& bpe_vocabs() {
  static const std::vector<std::string> v = {"llama-bpe",    "qwen2",          "gpt-2",
                                             "deepseek-llm", "deepseek-coder", "falcon",
                                             "starcoder",    "refact",         "mpt"};
  return v;
}

}  // namespace minima::test
