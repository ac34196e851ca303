// ChatTemplate's interface: syntax errors with line and column, runtime errors with the line,
// the render context, strftime_now, thread safety, and the built-in fallback templates.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "chat_template_test_util.hpp"
#include "runtime/chat/template.hpp"
#include "runtime/chat/value_str.hpp"

namespace minima::test {

namespace {

using nlohmann::ordered_json;

TemplateError parse_error(const std::string& source) {
  try {
    ChatTemplate::parse(source);
    ADD_FAILURE() << "parsed without error: " << escape_for_message(source);
  } catch (const TemplateError& e) {
    return e;
  }
  return TemplateError("none", "no error");
}

TEST(ChatTemplateApi, SyntaxErrorsNameLineAndColumn) {
  struct Case {
    const char* source;
    int line;
    const char* message;  // the full what()
  };
  const Case cases[] = {
      {"a\n{% if x %}\n{{ 1 + }}", 3,
       "syntax error in chat template at line 3, column 8: unexpected 'end of print statement'"},
      {"{% foo %}", 1,
       "syntax error in chat template at line 1, column 4: Encountered unknown tag 'foo'."},
      {"{% for x in y %}\nbody", 2,
       "syntax error in chat template at line 2, column 5: Unexpected end of template. Jinja was "
       "looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be "
       "closed is 'for'."},
      {"{% if x %}{% endfor %}", 1,
       "syntax error in chat template at line 1, column 14: Encountered unknown tag 'endfor'. "
       "Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost "
       "block that needs to be closed is 'if'."},
      {"ok\n{# open", 2,
       "syntax error in chat template at line 2, column 3: Missing end of comment tag"},
      {"{{ a ! b }}", 1,
       "syntax error in chat template at line 1, column 6: unexpected char '!' at 5"},
      {"{{ x|nosuchfilter }}", 1,
       "syntax error in chat template at line 1, column 6: No filter named 'nosuchfilter'."},
      {"{{ x is nosuchtest }}", 1,
       "syntax error in chat template at line 1, column 9: No test named 'nosuchtest'."},
      {"{% break %}", 1, "syntax error in chat template at line 1, column 4: 'break' outside loop"},
      {"{{ (1 }}", 1,
       "syntax error in chat template at line 1, column 7: unexpected '}', expected ')'"},
      {"{% include 'x' %}", 1,
       "syntax error in chat template at line 1, column 4: the 'include' tag is not supported in "
       "chat templates"},
      {"{% set 1 = 2 %}", 1,
       "syntax error in chat template at line 1, column 10: can't assign to 'const'"},
      {"{% macro m(a=1, b) %}{% endmacro %}", 1,
       "syntax error in chat template at line 1, column 18: non-default argument follows default "
       "argument"},
      {"x\xff", 1,
       "syntax error in chat template at line 1, column 2: template source is not valid UTF-8"},
  };
  for (const Case& c : cases) {
    const TemplateError e = parse_error(c.source);
    EXPECT_EQ(e.kind(), "TemplateSyntaxError") << c.source;
    EXPECT_EQ(e.line(), c.line) << c.source;
    EXPECT_STREQ(e.what(), c.message) << c.source;
  }
}

TEST(ChatTemplateApi, RuntimeErrorsKeepPythonsMessageAndGiveTheLine) {
  const TemplateError e = render_error("a\nb\n{{ raise_exception('System role not supported') }}");
  EXPECT_EQ(e.kind(), "TemplateError");
  EXPECT_STREQ(e.what(), "System role not supported");
  EXPECT_EQ(e.line(), 3);

  // Inside a macro the innermost statement's line wins.
  const TemplateError m =
      render_error("{% macro f(x) %}\n{{ x + 1 }}\n{% endmacro %}\n\n{{ f('a') }}");
  EXPECT_EQ(m.kind(), "TypeError");
  EXPECT_STREQ(m.what(), "can only concatenate str (not \"int\") to str");
  EXPECT_EQ(m.line(), 2);

  const TemplateError u =
      render_error("{% for m in messages %}\n{{ m.content.startswith('x') }}{% endfor %}",
                   ordered_json::parse(R"({"messages": [{"content": [1]}]})"));
  EXPECT_EQ(u.kind(), "UndefinedError");
  EXPECT_STREQ(u.what(), "'list object' has no attribute 'startswith'");
  EXPECT_EQ(u.line(), 2);
}

TEST(ChatTemplateApi, ContextMustBeAnObject) {
  const ChatTemplate t = ChatTemplate::parse("x");
  EXPECT_THROW(t.render(ordered_json::array()), Error);
  EXPECT_EQ(t.render(ordered_json::object()), "x");
}

TEST(ChatTemplateApi, ContextValuesKeepTheirJsonTypesAndOrder) {
  const ordered_json ctx = ordered_json::parse(
      R"({"i": 3, "u": 18446744073709551615, "f": 1.0, "g": 1e-7, "b": false, "n": null,
          "s": "h\u00e9", "o": {"z": 1, "a": [true, null, 2.5]}})");
  EXPECT_EQ(render("{{ i }}|{{ f }}|{{ g }}|{{ b }}|{{ n }}|{{ s }}|{{ o }}|{{ o|tojson }}", ctx),
            "3|1.0|1e-07|False|None|h\xC3\xA9|{'z': 1, 'a': [True, None, 2.5]}|"
            "{\"z\": 1, \"a\": [true, null, 2.5]}");
  // Unsigned integers beyond int64 arrive as floats (Python would keep an exact int).
  EXPECT_EQ(render("{{ u }}", ctx), "1.8446744073709552e+19");
}

TEST(ChatTemplateApi, StrftimeNowUsesTheGivenTimeOrTheClock) {
  RenderOptions fixed;
  fixed.strftime_now_time = "2024-02-29T23:05:09";
  EXPECT_EQ(render("{{ strftime_now('%d %b %Y %H:%M:%S %A %j %-d %-m') }}", ordered_json::object(),
                   fixed),
            "29 Feb 2024 23:05:09 Thursday 060 29 2");

  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  const std::string year = std::to_string(local.tm_year + 1900);
  const std::string got =
      render("{{ strftime_now('%Y') }}", ordered_json::object(), RenderOptions{});
  // Allow for a render that straddles New Year's midnight.
  EXPECT_TRUE(got == year || got == std::to_string(local.tm_year + 1901)) << got;

  RenderOptions bad;
  bad.strftime_now_time = "yesterday";
  EXPECT_THROW(ChatTemplate::parse("x").render(ordered_json::object(), bad), Error);
}

TEST(ChatTemplateApi, RendersConcurrentlyFromOneParse) {
  const ChatTemplate t = ChatTemplate::parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
      "{{ m.role }}:{{ m.content|trim }};{% endfor %}{{ ns.n }}");
  ordered_json msgs = ordered_json::array();
  for (int i = 0; i < 200; ++i)
    msgs.push_back({{"role", "user"}, {"content", " m" + std::to_string(i)}});
  const ordered_json ctx = {{"messages", msgs}};
  const std::string want = t.render(ctx);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < got.size(); ++k) {
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 20; ++rep) got[k] = t.render(ctx);
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& g : got) EXPECT_EQ(g, want);
}

TEST(ChatTemplateApi, BuiltinTemplates) {
  const ordered_json ctx = ordered_json::parse(R"({
      "messages": [{"role": "system", "content": "Be brief."},
                   {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image"}]},
                   {"role": "assistant", "content": "Hello!"}],
      "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");
  auto render_builtin = [&](const char* name) {
    const auto source = builtin_template(name);
    EXPECT_TRUE(source.has_value()) << name;
    return source ? ChatTemplate::parse(*source).render(ctx) : std::string();
  };
  EXPECT_EQ(render_builtin("chatml"),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(render_builtin("llama3"),
            "<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(
      render_builtin("zephyr"),
      "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello!</s>\n<|assistant|>\n");
  EXPECT_FALSE(builtin_template("nosuch").has_value());

  // Without special tokens and without a generation prompt.
  const ordered_json bare =
      ordered_json::parse(R"({"messages": [{"role": "user", "content": "x"}]})");
  EXPECT_EQ(ChatTemplate::parse(*builtin_template("llama3")).render(bare),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>");
  EXPECT_EQ(ChatTemplate::parse(*builtin_template("zephyr")).render(bare), "<|user|>\nx</s>\n");
}

TEST(ChatTemplateApi, FloatReprMatchesPython) {
  const std::pair<double, const char*> cases[] = {
      {0.1, "0.1"},
      {1.0, "1.0"},
      {1e-05, "1e-05"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {123456789012345.6, "123456789012345.6"},
      {0.0001, "0.0001"},
      {1.5e-10, "1.5e-10"},
      {-0.0, "-0.0"},
      {1e300, "1e+300"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {100.0, "100.0"},
      {12345678901234567.0, "1.2345678901234568e+16"},
      {9007199254740993.0, "9007199254740992.0"},
      {0.000123, "0.000123"},
      {1e22, "1e+22"},
  };
  for (const auto& [d, want] : cases) EXPECT_EQ(jinja::float_repr(d), want);
}

}  // namespace

}  // namespace minima::test
