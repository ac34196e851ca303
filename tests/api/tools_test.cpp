// Tool calling pieces: the call syntax chosen from real chat templates, the calls grammar (every
// format accepts a well-formed call and refuses a wrong name or invalid arguments), reading calls
// back out of text in every format, and the streaming reader giving the same result however the
// text is cut into deltas.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "api/server/api_error.hpp"
#include "api/server/tools.hpp"
#include "runtime/grammar/grammar.hpp"
#include "runtime/grammar/matcher.hpp"
#include "support/test_support.hpp"

namespace minima::server {
namespace {

ToolRequest weather_tools(ToolRequest::Choice choice = ToolRequest::Choice::Required,
                          bool parallel = true) {
  const std::string body = R"({"tools":[
    {"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]}},"required":["city","unit"]},"strict":true}},
    {"type":"function","function":{"name":"now"}}]})";
  auto t = parse_tools(nlohmann::ordered_json::parse(body));
  EXPECT_TRUE(t.has_value());
  t->choice = choice;
  t->parallel = parallel;
  return *t;
}

grammar::Matcher matcher_for(const ToolRequest& t, ToolFormat f) {
  return grammar::Matcher(
      std::make_shared<const grammar::Grammar>(grammar::Grammar::parse(tool_calls_gbnf(t, f))));
}

TEST(Tools, FormatFromRealTemplates) {
  MINIMA_REQUIRE_SHARED("chat-templates");
  const std::pair<const char*, ToolFormat> cases[] = {
      {"Qwen-Qwen2.5-7B-Instruct", ToolFormat::Hermes},
      {"Qwen-Qwen3-0.6B", ToolFormat::Hermes},
      {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use", ToolFormat::Hermes},
      {"meta-llama-Llama-3.1-8B-Instruct", ToolFormat::Llama3},
      {"meta-llama-Llama-3.2-3B-Instruct", ToolFormat::Llama3},
      {"mistralai-Mistral-Nemo-Instruct-2407", ToolFormat::Mistral},
      {"google-gemma-2-2b-it", ToolFormat::Hermes},  // no tool syntax: the default
  };
  for (const auto& [name, want] : cases) {
    std::ifstream in(test::shared_dir() / "chat-templates" / (std::string(name) + ".jinja"));
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(tool_format_of(ss.str()), want) << name;
  }
}

TEST(Tools, GrammarAcceptsWellFormedCallsInEachFormat) {
  const auto t = weather_tools();
  auto hermes = matcher_for(t, ToolFormat::Hermes);
  EXPECT_TRUE(
      hermes.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", "
                     "\"unit\": \"c\"}}\n</tool_call>"));
  EXPECT_TRUE(hermes.matches(
      "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": "
      "\"now\", \"arguments\": { }}\n</tool_call>"));
  EXPECT_FALSE(
      hermes.matches("<tool_call>\n{\"name\": \"other\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_FALSE(
      hermes.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                     "\"Oslo\"}}\n</tool_call>"));
  EXPECT_FALSE(
      hermes.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", "
                     "\"unit\": \"k\"}}\n</tool_call>"));
  auto llama = matcher_for(t, ToolFormat::Llama3);
  EXPECT_TRUE(llama.matches("{\"name\": \"now\", \"parameters\": {}}"));
  EXPECT_FALSE(llama.matches(
      "{\"name\": \"now\", \"parameters\": {}}{\"name\": \"now\", \"parameters\": {}}"));
  auto mistral = matcher_for(t, ToolFormat::Mistral);
  EXPECT_TRUE(
      mistral.matches("[{\"name\": \"now\", \"arguments\": {}}, {\"name\": \"get_weather\", "
                      "\"arguments\": {\"city\": \"x\", \"unit\": \"f\"}}]"));
  // One call only without parallel calls; only the named function with a named choice.
  auto single =
      matcher_for(weather_tools(ToolRequest::Choice::Required, false), ToolFormat::Mistral);
  EXPECT_FALSE(single.matches(
      "[{\"name\": \"now\", \"arguments\": {}}, {\"name\": \"now\", \"arguments\": {}}]"));
  auto named_t = weather_tools(ToolRequest::Choice::Named);
  named_t.named = "now";
  auto named = matcher_for(named_t, ToolFormat::Hermes);
  EXPECT_TRUE(named.matches("<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_FALSE(
      named.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", "
                    "\"unit\": \"c\"}}\n</tool_call>"));
}

TEST(Tools, ParsesCallsOutOfTextInEachFormat) {
  const auto h = parse_tool_calls(
      "Let me check.<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"O\\\"slo}\", \"unit\": \"c\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", "
      "\"arguments\": {}}\n</tool_call>",
      ToolFormat::Hermes);
  EXPECT_EQ(h.content, "Let me check.");
  ASSERT_EQ(h.calls.size(), 2u);
  EXPECT_EQ(h.calls[0].name, "get_weather");
  EXPECT_EQ(h.calls[0].arguments, "{\"city\": \"O\\\"slo}\", \"unit\": \"c\"}");
  EXPECT_EQ(h.calls[1].name, "now");
  EXPECT_EQ(h.calls[1].arguments, "{}");
  const auto l = parse_tool_calls("{\"name\": \"now\", \"parameters\": {\"x\": [1, {\"y\": 2}]}}",
                                  ToolFormat::Llama3);
  ASSERT_EQ(l.calls.size(), 1u);
  EXPECT_EQ(l.calls[0].arguments, "{\"x\": [1, {\"y\": 2}]}");
  EXPECT_EQ(l.content, "");
  const auto m = parse_tool_calls(
      "[{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": {\"k\": 1}}]",
      ToolFormat::Mistral);
  ASSERT_EQ(m.calls.size(), 2u);
  EXPECT_EQ(m.calls[1].name, "b");
  EXPECT_EQ(m.calls[1].arguments, "{\"k\": 1}");
  const auto none = parse_tool_calls("Just text, with <tool a bracket.", ToolFormat::Hermes);
  EXPECT_EQ(none.content, "Just text, with <tool a bracket.");
  EXPECT_TRUE(none.calls.empty());
}

// Any cut of the text into deltas gives the same content and the same calls.
TEST(Tools, StreamingReaderIsIndependentOfHowTextIsCut) {
  const std::string text =
      "Sure <tool_ thing. <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"a}\\\\\", \"unit\": \"c\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", "
      "\"arguments\": {}}\n</tool_call>";
  const auto whole = parse_tool_calls(text, ToolFormat::Hermes);
  ASSERT_EQ(whole.calls.size(), 2u);
  for (size_t step : {1, 2, 3, 7, 13}) {
    ToolStream s(ToolFormat::Hermes);
    std::string content;
    std::vector<ToolCall> calls;
    auto take = [&](const ToolStream::Delta& d) {
      content += d.content;
      for (const auto& c : d.calls) {
        if (c.name) calls.push_back({*c.name, ""});
        ASSERT_FALSE(calls.empty());
        ASSERT_EQ(c.index, static_cast<int>(calls.size()) - 1);
        calls.back().arguments += c.arguments;
      }
    };
    for (size_t i = 0; i < text.size(); i += step) take(s.push(text.substr(i, step)));
    take(s.finish());
    EXPECT_EQ(content, whole.content) << step;
    ASSERT_EQ(calls.size(), whole.calls.size()) << step;
    for (size_t k = 0; k < calls.size(); ++k) {
      EXPECT_EQ(calls[k].name, whole.calls[k].name);
      EXPECT_EQ(calls[k].arguments, whole.calls[k].arguments) << step;
    }
  }
}

TEST(Tools, RefusesBadRequestsNamingTheParameter) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"tools":[]})", "tools"},
      {R"({"tools":[{"type":"function","function":{"name":"a b"}}]})", "tools[0].function.name"},
      {R"({"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"a"}}]})",
       "tools[1].function.name"},
      {R"({"tools":[{"type":"retrieval"}]})", "tools[0].type"},
      {R"({"tools":[{"type":"function","function":{"name":"a","parameters":3}}]})",
       "tools[0].function.parameters"},
      {R"({"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"maybe"})",
       "tool_choice"},
      {R"({"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"b"}}})",
       "tool_choice"},
      {R"({"tool_choice":"auto"})", "tool_choice"},
      {R"({"tools":[{"type":"function","function":{"name":"a"}}],"parallel_tool_calls":1})",
       "parallel_tool_calls"},
  };
  for (const auto& [body, param] : cases) {
    try {
      parse_tools(nlohmann::ordered_json::parse(body));
      ADD_FAILURE() << "accepted " << body;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status, 400) << body;
      EXPECT_EQ(e.param.value_or(""), param) << body << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace minima::server
