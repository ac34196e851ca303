// Strict UTF-8 scanning shared by the tokenizers and the streaming decoder. "Strict" means the
// Unicode definition: no overlong forms, no surrogates, nothing above U+10FFFF. Invalid input is
// described in maximal subparts (Unicode §3.9, as Python's and Rust's lossy decoders do), so one
// broken sequence becomes one U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace minima::utf8 {

enum class Scan : uint8_t {
  Valid,       // a complete code point of `len` bytes
  Invalid,     // `len` bytes (a maximal subpart, >= 1) that can never start a valid sequence
  Incomplete,  // the `len` bytes up to the end of the input are a valid but unfinished prefix
};

struct ScanResult {
  Scan kind;
  uint8_t len;
  char32_t cp;  // the code point when Valid, U+FFFD otherwise
};

inline constexpr char32_t kReplacement = 0xFFFD;

// Scans the sequence starting at s[i] (i < s.size()).
ScanResult scan(std::string_view s, size_t i);

// Appends the UTF-8 encoding of cp (cp must be a Unicode scalar value).
void append(std::string& out, char32_t cp);

// Copy of s where every invalid or incomplete subpart is replaced by U+FFFD.
std::string sanitize(std::string_view s);

// True when s is entirely valid UTF-8.
bool is_valid(std::string_view s);

// The byte length llama.cpp's SPM gives a symbol starting with lead byte b (1 for ASCII,
// continuation and invalid bytes, else 2..4 from the high bits). The caller clips it to the input.
inline size_t lead_length(unsigned char b) {
  static constexpr uint8_t kByHighNibble[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kByHighNibble[b >> 4];
}

}  // namespace minima::utf8
