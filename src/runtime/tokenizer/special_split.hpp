// Splits input text around special-token texts before the tokenizer algorithm runs (llama.cpp's
// tokenizer_st_partition). Special tokens are taken longest first; each one is searched in every
// text fragment left by the previous ones, so a longer token always wins over a shorter one it
// contains. CONTROL and UNKNOWN tokens are matched only with parse_special; USER_DEFINED tokens
// always. A token with a strip flag also swallows the whitespace next to it.
#pragma once

#include <string_view>
#include <vector>

#include "runtime/tokenizer/vocab.hpp"

namespace minima::tok {

struct Fragment {
  TokenId token;      // >= 0: a matched special token; -1: raw text [begin, end)
  size_t begin, end;  // byte offsets into the input
};

std::vector<Fragment> split_specials(const Vocab& v, std::string_view text, bool parse_special);

}  // namespace minima::tok
