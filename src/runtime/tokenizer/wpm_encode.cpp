// WordPiece with BERT's normaliser (the "bert" tokenizer model). Normalisation follows Hugging
// Face's BertNormalizer for uncased models, which is what the vocabularies were trained with:
// drop NUL, U+FFFD and every "Other" character (Cc Cf Co Cs Cn) except \t \n \r; whitespace splits
// words; NFD then drop non-spacing marks (accents); lowercase (simple case mapping); punctuation
// (Unicode P* and all ASCII symbols) and CJK ideographs are words of their own.
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <string>

#include "core/error.hpp"
#include "runtime/tokenizer/encoders.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima::tok {

namespace {

bool is_other(UChar32 c) {
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
    case U_UNASSIGNED:
      return true;
    default:
      return false;
  }
}

bool is_ascii_punct(UChar32 c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

// The CJK blocks BERT isolates (its original tokenization.py ranges).
bool is_cjk(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::vector<std::string> normalize_and_split(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) fail("wordpiece: ICU NFD normaliser unavailable: ", u_errorName(status));
  // fromUTF8 replaces invalid UTF-8 by U+FFFD, which is then dropped below.
  const icu::UnicodeString src = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  const icu::UnicodeString d = nfd->normalize(src, status);
  if (U_FAILURE(status)) fail("wordpiece: NFD normalisation failed: ", u_errorName(status));

  std::vector<std::string> words(1);
  auto end_word = [&] {
    if (!words.back().empty()) words.emplace_back();
  };
  for (int32_t i = 0; i < d.length();) {
    const UChar32 c = d.char32At(i);
    i += U16_LENGTH(c);
    if (c == '\t' || c == '\n' || c == '\r' || (!is_other(c) && u_isUWhiteSpace(c))) {
      end_word();
      continue;
    }
    if (c == 0 || c == 0xFFFD || is_other(c) || u_charType(c) == U_NON_SPACING_MARK) continue;
    std::string lower;
    utf8::append(lower, static_cast<char32_t>(u_tolower(c)));
    if (is_ascii_punct(c) || u_ispunct(c) || is_cjk(c)) {
      end_word();
      words.back() = std::move(lower);  // a word of one character
      words.emplace_back();
    } else {
      words.back() += lower;
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

}  // namespace

void wpm_encode(const Vocab& v, std::string_view text, std::vector<TokenId>& out) {
  std::string word;
  for (const std::string& w : normalize_and_split(text)) {
    // Word-initial pieces carry the U+2581 prefix; continuation pieces ("##x" in BERT's files)
    // are stored bare by the GGUF converter.
    word = "\xE2\x96\x81" + w;
    const size_t start = out.size();
    for (size_t i = 0; i < word.size();) {
      size_t j = std::min(word.size(), i + v.max_token_len);
      for (; j > i; --j) {
        const TokenId id = v.lookup(std::string_view(word).substr(i, j - i));
        if (id >= 0) {
          out.push_back(id);
          break;
        }
      }
      if (j == i) {  // this position cannot be covered: the whole word is unknown
        out.resize(start);
        break;
      }
      i = j;
    }
    if (out.size() == start && v.unk >= 0) out.push_back(v.unk);
  }
}

}  // namespace minima::tok
