// The regex pre-tokenizers on their own (internal API): every supported name compiles, and the
// splits of a few families, including GPT-4o (o200k) for which no reference vocabulary exists.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/tokenizer/pre_tokenizer.hpp"

namespace minima::tok {
namespace {

std::vector<std::string> split(std::string_view pre, std::string_view text) {
  const PreSpec* spec = find_pre_spec(pre);
  if (spec == nullptr) throw std::runtime_error("no pre " + std::string(pre));
  const PreTokenizer p(*spec);
  std::vector<std::pair<size_t, size_t>> spans;
  p.split(text, spans);
  std::vector<std::string> words;
  size_t expect_begin = 0;
  for (const auto& [b, e] : spans) {
    EXPECT_EQ(b, expect_begin) << "words must tile the text";
    EXPECT_LT(b, e) << "no empty words";
    expect_begin = e;
    words.emplace_back(text.substr(b, e - b));
  }
  EXPECT_EQ(expect_begin, text.size());
  return words;
}

using Words = std::vector<std::string>;

TEST(PreTokenizer, EverySupportedNameCompiles) {
  const std::string names = supported_pre_names();
  for (const char* n :
       {"default",      "llama-bpe",      "llama3",      "llama-v3",    "qwen2",     "gpt-4o",
        "deepseek-llm", "deepseek-coder", "falcon",      "starcoder",   "refact",    "mpt",
        "gpt-2",        "smollm",         "olmo",        "stablelm2",   "tekken",    "chameleon",
        "bloom",        "viking",         "deepseek-v3", "chatglm-bpe", "command-r", "dbrx"}) {
    EXPECT_NE(names.find(n), std::string::npos) << n;
  }
  size_t start = 0;
  while (start < names.size()) {
    size_t end = names.find(", ", start);
    if (end == std::string::npos) end = names.size();
    const std::string name = names.substr(start, end - start);
    const PreSpec* spec = find_pre_spec(name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_NO_THROW(split(name, "Hello, world 123 \xE4\xBD\xA0\xE5\xA5\xBD\n\n  x")) << name;
    start = end + 2;
  }
  EXPECT_EQ(find_pre_spec("klingon"), nullptr);
}

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(split("gpt-2", "Hello world's  end\n"),
            (Words{"Hello", " world", "'s", " ", " end", "\n"}));
  EXPECT_EQ(split("gpt-2", "12345"), (Words{"12345"}));
}

TEST(PreTokenizer, Llama3AndQwen2Digits) {
  EXPECT_EQ(split("llama-bpe", "12345 I'M"), (Words{"123", "45", " I", "'M"}));
  EXPECT_EQ(split("qwen2", "12345"), (Words{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(split("qwen2", "a\n\n  b"), (Words{"a", "\n\n", " ", " b"}));
}

TEST(PreTokenizer, Gpt4o) {
  EXPECT_EQ(split("gpt-4o", "camelCase"), (Words{"camel", "Case"}));
  EXPECT_EQ(split("gpt-4o", "I'm HTTPServer's"), (Words{"I'm", " HTTPServer's"}));
  EXPECT_EQ(split("gpt-4o", "12345"), (Words{"123", "45"}));
  EXPECT_EQ(split("gpt-4o", "hello  world"), (Words{"hello", " ", " world"}));
  EXPECT_EQ(split("gpt-4o", "line1\n\nline2"), (Words{"line", "1", "\n\n", "line", "2"}));
  EXPECT_EQ(split("gpt-4o", "//comment\n"), (Words{"//", "comment", "\n"}));
  EXPECT_EQ(split("gpt-4o", "x = a+b;\n"), (Words{"x", " =", " a", "+b", ";\n"}));
  // Non-Latin scripts: Cyrillic words keep their leading space; CJK is one letter run.
  EXPECT_EQ(split("gpt-4o", "\xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE \xD0\xBD\xD0\xB0"),
            (Words{"\xD0\xBD\xD0\xB5\xD1\x89\xD0\xBE", " \xD0\xBD\xD0\xB0"}));
}

TEST(PreTokenizer, DeepseekLlmFragmentsAreIndependentSubjects) {
  // "\s+$" must see the end of each fragment, not only of the whole text.
  EXPECT_EQ(split("deepseek-llm", "ab  \ncd"), (Words{"ab", "  ", "\n", "cd"}));
}

TEST(PreTokenizer, LongRunsDoNotExhaustTheMatcher) {
  const std::string spaces(1 << 20, ' ');
  EXPECT_EQ(split("qwen2", spaces).size(), 1u);
  EXPECT_EQ(split("gpt-2", spaces + "x").size(), 2u);
  const std::string letters(1 << 20, 'a');
  EXPECT_EQ(split("llama-bpe", letters).size(), 1u);
}

}  // namespace
}  // namespace minima::tok
