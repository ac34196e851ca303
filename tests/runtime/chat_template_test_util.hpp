// Shared helpers of the chat-template tests: rendering with the reference settings and a
// readable description of where two renders first differ.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

#include "runtime/chat/template.hpp"

namespace minima::test {

// One row of the generated tables (chat_template_*_cases.inc).
struct TemplateCase {
  const char* name;
  const char* source;
  const char* want;   // expected text, or nullptr when Jinja2 raised
  const char* error;  // exact message Jinja2 raised, or nullptr
};

// The strftime_now time of the reference renders.
inline RenderOptions reference_options() {
  RenderOptions o;
  o.strftime_now_time = "2026-07-15T08:30:00";
  return o;
}

inline std::string escape_for_message(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// "first difference at byte 120 (line 4, column 7): expected ...«x»... got ...«y»...", or ""
// when equal.
inline std::string describe_difference(const std::string& want, const std::string& got) {
  if (want == got) return "";
  const size_t n = std::min(want.size(), got.size());
  size_t i = 0;
  while (i < n && want[i] == got[i]) ++i;
  size_t line = 1;
  size_t col = 1;
  for (size_t k = 0; k < i; ++k) {
    if (want[k] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  const size_t from = i > 40 ? i - 40 : 0;
  auto window = [&](const std::string& s) {
    const std::string before = s.substr(from, i - from);
    const std::string after = i < s.size() ? s.substr(i, 40) : "<end>";
    return "..." + escape_for_message(before) + "\xC2\xAB" + escape_for_message(after) + "...";
  };
  return "first difference at byte " + std::to_string(i) + " (line " + std::to_string(line) +
         ", column " + std::to_string(col) + "), sizes " + std::to_string(want.size()) +
         " expected vs " + std::to_string(got.size()) + " rendered\n  expected: " + window(want) +
         "\n  rendered: " + window(got);
}

// Renders `source` and compares with the expected text or error message.
inline ::testing::AssertionResult renders_as(const std::string& source,
                                             const nlohmann::ordered_json& context,
                                             const char* want, const char* error,
                                             const RenderOptions& options = reference_options()) {
  std::string got;
  try {
    got = ChatTemplate::parse(source).render(context, options);
  } catch (const TemplateError& e) {
    if (error != nullptr && e.what() == std::string(error)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "raised " << e.kind() << " (line " << e.line() << "): " << e.what() << "\n  expected "
           << (error != nullptr ? "error: " + std::string(error)
                                : "text: " + escape_for_message(want));
  }
  if (error != nullptr) {
    return ::testing::AssertionFailure()
           << "rendered '" << escape_for_message(got) << "' but expected the error: " << error;
  }
  const std::string diff = describe_difference(want, got);
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << diff;
}

// The TemplateError a render raises (fails the test when it renders).
inline TemplateError render_error(
    const std::string& source,
    const nlohmann::ordered_json& context = nlohmann::ordered_json::object(),
    const RenderOptions& options = reference_options()) {
  try {
    const std::string out = ChatTemplate::parse(source).render(context, options);
    ADD_FAILURE() << "expected an error, rendered: " << escape_for_message(out);
  } catch (const TemplateError& e) {
    return e;
  }
  return TemplateError("none", "no error");
}

inline std::string render(const std::string& source,
                          const nlohmann::ordered_json& context = nlohmann::ordered_json::object(),
                          const RenderOptions& options = reference_options()) {
  return ChatTemplate::parse(source).render(context, options);
}

}  // namespace minima::test
