#include "runtime/tokenizer/byte_level.hpp"

#include "runtime/tokenizer/utf8.hpp"

namespace minima::tok {

namespace {

bool stands_for_itself(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

}  // namespace

ByteLevel::ByteLevel() {
  dec_.fill(-1);
  int shifted = 0;
  for (int b = 0; b < 256; ++b) {
    const char32_t cp = stands_for_itself(b) ? char32_t(b) : char32_t(256 + shifted++);
    utf8::append(enc_[b], cp);
    dec_[cp] = static_cast<int16_t>(b);
  }
}

void ByteLevel::encode(std::string_view s, std::string& out) const {
  for (const char c : s) out.append(enc_[static_cast<unsigned char>(c)]);
}

std::string ByteLevel::decode(std::string_view token) const {
  std::string out;
  out.reserve(token.size());
  size_t i = 0;
  while (i < token.size()) {
    const utf8::ScanResult r = utf8::scan(token, i);
    if (r.kind == utf8::Scan::Valid && r.cp < dec_.size() && dec_[r.cp] >= 0) {
      out.push_back(static_cast<char>(dec_[r.cp]));
    } else {
      out.append(token.substr(i, r.len));
    }
    i += r.len;
  }
  return out;
}

}  // namespace minima::tok
