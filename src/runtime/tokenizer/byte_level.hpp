// The byte ↔ character mapping of byte-level BPE (GPT-2's bytes_to_unicode): printable Latin-1
// bytes stand for themselves, the other 68 bytes are shifted to U+0100.. in byte order, so every
// byte is one visible character. BPE vocabularies ("gpt2" model) store their tokens in this form.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace minima::tok {

class ByteLevel {
 public:
  ByteLevel();

  // UTF-8 of the character standing for byte b.
  std::string_view encode(unsigned char b) const { return enc_[b]; }
  // Appends the characters for every byte of s.
  void encode(std::string_view s, std::string& out) const;
  // Decodes a token's characters back to bytes. A character outside the mapping (added tokens
  // stored as plain text) is kept as its own UTF-8, so no text is lost.
  std::string decode(std::string_view token) const;

 private:
  std::array<std::string, 256> enc_;
  std::array<int16_t, 324> dec_;  // code point → byte, -1 when unmapped (max mapped is U+0143)
};

}  // namespace minima::tok
