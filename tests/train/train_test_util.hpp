// Helpers shared by the tokenizer-training and data-shard tests: small corpus files and a small
// trained vocabulary.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "model/gguf/writer.hpp"
#include "train/bpe_trainer.hpp"

namespace minima::test {

inline void write_text(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// English and Chinese sentences with a few words that repeat often.
inline std::string sample_text(int i) {
  static constexpr std::string_view kEnglish[] = {
      "The quick brown fox jumps over the lazy dog.",
      "A tokenizer splits text into pieces that a model can read.",
      "Training on the same corpus twice must give the same vocabulary.",
      "Numbers like 2024 and 3.14159 are split digit by digit.",
  };
  static constexpr std::string_view kChinese[] = {
      "今天天气很好，我们去公园散步。",
      "机器学习模型需要大量的数据。",
      "我喜欢读书，也喜欢写字。",
  };
  std::string s(kEnglish[i % 4]);
  s += ' ';
  s += kChinese[i % 3];
  s += " the model reads the text and the tokenizer counts the words.\n";
  return s;
}

// A JSON-lines corpus of n documents built from sample_text.
inline std::string sample_jsonl(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string t = sample_text(i);
    t.pop_back();  // the newline, written escaped below
    out += "{\"id\": " + std::to_string(i) + ", \"text\": \"" + t + "\\n\"}\n";
  }
  return out;
}

// Trains a vocabulary on `files` and writes it to `out`.
inline train::BpeVocab train_to_file(const std::vector<std::filesystem::path>& files,
                                     int32_t vocab_size, const std::filesystem::path& out,
                                     int threads = 1) {
  train::BpeTrainOptions opt;
  opt.vocab_size = vocab_size;
  opt.threads = threads;
  opt.name = "test-bpe";
  train::BpeVocab v = train::train_bpe_tokenizer(files, opt);
  GgufWriter w;
  train::write_bpe_tokenizer_metadata(w, v);
  w.write(out);
  return v;
}

}  // namespace minima::test
