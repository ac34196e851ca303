// Hostile or broken templates must end in a clear TemplateError (kind "LimitError" or a syntax
// error), never a crash, a hang or unbounded memory: runaway recursion, endless loops, output
// and value blow-ups, cyclic namespaces and absurdly deep nesting.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "chat_template_test_util.hpp"
#include "runtime/chat/template.hpp"

namespace minima::test {

namespace {

using nlohmann::ordered_json;

RenderOptions small_limits() {
  RenderOptions o = reference_options();
  o.max_steps = 2'000'000;
  o.max_output_bytes = 1 << 20;
  return o;
}

void expect_limit(const std::string& source, const std::string& message_part,
                  const RenderOptions& options = small_limits()) {
  const auto start = std::chrono::steady_clock::now();
  const TemplateError e = render_error(source, ordered_json::object(), options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(e.kind(), "LimitError") << source << "\n  " << e.what();
  EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos)
      << source << "\n  " << e.what();
  EXPECT_LT(seconds, 10.0) << source;
}

TEST(ChatTemplateLimits, RunawayRecursion) {
  expect_limit("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "recursion is too deep");
  expect_limit("{% macro m(n) %}{{ m(n + 1) ~ 'x' }}{% endmacro %}{{ m(0) }}",
               "recursion is too deep");
  expect_limit(
      "{% macro m(n) %}{% if n %}{% for i in [1] %}{% set x = (m(n) ~ 'y')|trim %}{{ x }}"
      "{% endfor %}{% endif %}{% endmacro %}{{ m(1) }}",
      "recursion is too deep");
  expect_limit("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", "recursion is too deep");
}

TEST(ChatTemplateLimits, EndlessLoopsHitTheStepLimit) {
  expect_limit("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
               "step limit");
  expect_limit(
      "{% for i in range(10) %}{% for i in range(10) %}{% for i in range(10) %}"
      "{% for i in range(10) %}{% for i in range(10) %}{% for i in range(10) %}{% for i in "
      "range(10) %}"
      "x{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
      "");
  // Comparing a value whose shared parts double at each level would take 2^40 steps.
  expect_limit(
      "{% set ns = namespace(x=1) %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
      "{% endfor %}{{ ns.x == ns.x }}",
      "step limit");
  // Quadratic string building is charged by the byte.
  expect_limit(
      "{% set ns = namespace(s='') %}{% for i in range(100000) %}{% set ns.s = ns.s ~ 'xxxxxxxx' %}"
      "{% endfor %}",
      "step limit");
}

TEST(ChatTemplateLimits, OutputAndValueSizes) {
  expect_limit("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "max_output_bytes");
  expect_limit(
      "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% "
      "endfor %}",
      "max_output_bytes");
  expect_limit("{{ 'x' * 10000000000 }}", "max_output_bytes");
  expect_limit("{{ 'x'.center(1000000000) }}", "max_output_bytes");
  expect_limit("{{ [1] * 10000000000 }}", "exceeds the size limit");
  expect_limit(
      "{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% "
      "endfor %}",
      "exceeds the size limit");
  // Printing or serializing a value whose shared parts double at each level.
  expect_limit(
      "{% set ns = namespace(x=1) %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
      "{% endfor %}{{ ns.x }}",
      "output limit");
  expect_limit(
      "{% set ns = namespace(x=1) %}{% for i in range(40) %}{% set ns.x = [ns.x, ns.x] %}"
      "{% endfor %}{{ ns.x|tojson }}",
      "max_output_bytes");
}

TEST(ChatTemplateLimits, DeepAndCyclicValues) {
  expect_limit(
      "{% set ns = namespace(x=1) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor "
      "%}",
      "nested more than");
  expect_limit("{% set ns = namespace() %}{% set ns.a = ns %}{{ ns }}", "nested too deeply");
  // A cycle through a namespace is broken when the render ends (no leak, no crash).
  EXPECT_EQ(render("{% set ns = namespace() %}{% set ns.a = [ns] %}{% set ns.b = ns %}ok"), "ok");

  ordered_json deep = 1;
  for (int i = 0; i < 2000; ++i) deep = ordered_json::array({deep});
  EXPECT_THROW(ChatTemplate::parse("{{ x }}").render({{"x", deep}}), Error);
}

TEST(ChatTemplateLimits, DeepSyntaxIsRejectedWhileParsing) {
  const std::string deep_sources[] = {
      "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}",
      "{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}",
      "{{ " + std::string(5000, '-') + "1 }}",
      [] {
        std::string s = "{{ 1";
        for (int i = 0; i < 20000; ++i) s += " + 1";
        return s + " }}";
      }(),
      [] {
        std::string s = "{{ 1";
        for (int i = 0; i < 5000; ++i) s += "|abs";
        return s + " }}";
      }(),
      [] {
        std::string s = "{{ x";
        for (int i = 0; i < 5000; ++i) s += ".a";
        return s + " }}";
      }(),
      [] {
        std::string s;
        for (int i = 0; i < 5000; ++i) s += "{% if true %}";
        for (int i = 0; i < 5000; ++i) s += "{% endif %}";
        return s;
      }(),
  };
  for (const std::string& source : deep_sources) {
    try {
      ChatTemplate::parse(source);
      ADD_FAILURE() << "parsed: " << source.substr(0, 60);
    } catch (const TemplateError& e) {
      EXPECT_EQ(e.kind(), "TemplateSyntaxError");
      EXPECT_NE(std::string(e.what()).find("nesting is too deep"), std::string::npos) << e.what();
    }
  }
}

TEST(ChatTemplateLimits, DefaultLimitsLeaveRoomForLongConversations) {
  // 3000 messages through a Qwen-style template with the default limits.
  ordered_json msgs = ordered_json::array();
  for (int i = 0; i < 3000; ++i) {
    msgs.push_back({{"role", i % 2 == 0 ? "user" : "assistant"},
                    {"content", "message number " + std::to_string(i) + std::string(200, '.')}});
  }
  const std::string source =
      "{%- set ns = namespace(last=-1) %}{%- for m in messages[::-1] %}"
      "{%- if ns.last < 0 and m.role == 'user' %}{% set ns.last = messages|length - 1 - "
      "loop.index0 %}{% endif %}"
      "{%- endfor %}"
      "{%- for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content|trim + "
      "'<|im_end|>\\n' }}"
      "{%- endfor %}{{ ns.last }}";
  const std::string out = render(source, {{"messages", msgs}}, RenderOptions{});
  EXPECT_GT(out.size(), 3000u * 200u);
  EXPECT_EQ(out.substr(out.size() - 4), "2998");
}

}  // namespace

}  // namespace minima::test
