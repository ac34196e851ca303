#include "runtime/tokenizer/utf8.hpp"

namespace minima::utf8 {

namespace {

// Allowed range of the second byte for a lead byte (Unicode Table 3-7); later bytes are always
// 0x80..0xBF.
struct LeadInfo {
  uint8_t len;  // 0 = byte cannot start a sequence
  uint8_t lo, hi;
};

LeadInfo lead_info(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};  // continuation byte or overlong 2-byte lead
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};  // excludes surrogates
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};  // up to U+10FFFF
  return {0, 0, 0};
}

}  // namespace

ScanResult scan(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  const LeadInfo li = lead_info(b0);
  if (li.len == 1) return {Scan::Valid, 1, b0};
  if (li.len == 0) return {Scan::Invalid, 1, kReplacement};
  char32_t cp = b0 & (0x7F >> li.len);
  for (uint8_t k = 1; k < li.len; ++k) {
    if (i + k >= s.size()) return {Scan::Incomplete, k, kReplacement};
    const auto b = static_cast<unsigned char>(s[i + k]);
    const uint8_t lo = k == 1 ? li.lo : 0x80;
    const uint8_t hi = k == 1 ? li.hi : 0xBF;
    if (b < lo || b > hi) return {Scan::Invalid, k, kReplacement};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {Scan::Valid, li.len, cp};
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const ScanResult r = scan(s, i);
    if (r.kind == Scan::Valid) {
      out.append(s.substr(i, r.len));
    } else {
      append(out, kReplacement);
    }
    i += r.len;
  }
  return out;
}

bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const ScanResult r = scan(s, i);
    if (r.kind != Scan::Valid) return false;
    i += r.len;
  }
  return true;
}

}  // namespace minima::utf8
