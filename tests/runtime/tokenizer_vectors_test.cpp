// Every llama.cpp reference vector of ../shared/tokenizers: encode(add_special=false,
// parse_special=false) must reproduce the expected ids exactly.
#include <gtest/gtest.h>

#include <cstdio>

#include "runtime/tokenizer/tokenizer.hpp"
#include "tokenizer_test_util.hpp"

namespace minima::test {

namespace {

class VocabVectorsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabVectorsTest, EncodesEveryReferenceString) {
  MINIMA_REQUIRE_SHARED("tokenizers");
  const std::string name = GetParam();
  const Tokenizer& tok = reference_tokenizer(name);
  const VocabVectors vec = read_vectors(name);
  ASSERT_EQ(vec.inputs.size(), 46u) << name << ": unexpected number of test strings";
  ASSERT_EQ(vec.expected.size(), vec.inputs.size()) << name << ": .inp and .out disagree";
  size_t pass = 0;
  for (size_t i = 0; i < vec.inputs.size(); ++i) {
    const auto got = tok.encode(vec.inputs[i], false, false);
    if (got == vec.expected[i]) {
      ++pass;
    } else {
      ADD_FAILURE() << name << " string #" << i << " '" << vec.inputs[i] << "'\n  expected "
                    << ids_to_string(vec.expected[i]) << "\n  got      " << ids_to_string(got);
    }
  }
  std::printf("%s: %zu/%zu vectors\n", name.c_str(), pass, vec.inputs.size());
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, VocabVectorsTest,
                         ::testing::Values("llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2",
                                           "deepseek-llm", "deepseek-coder", "falcon", "starcoder",
                                           "refact", "mpt", "bert-bge"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace minima::test
