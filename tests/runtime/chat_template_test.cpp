// The chat templates of popular models (../shared/chat-templates) rendered over the reference
// conversations: each template x case must match Python Jinja2's render byte for byte, or raise
// the same error message.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "chat_template_test_util.hpp"
#include "runtime/chat/template.hpp"
#include "support/test_support.hpp"

namespace minima::test {

namespace {

const char* const kTemplates[] = {
    "CohereForAI-c4ai-command-r-plus-tool_use",
    "HuggingFaceTB-SmolLM3-3B",
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use",
    "Qwen-Qwen2.5-7B-Instruct",
    "Qwen-Qwen3-0.6B",
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
    "google-gemma-2-2b-it",
    "google-gemma-3-it",
    "meetkai-functionary-medium-v3.1",
    "meetkai-functionary-medium-v3.2",
    "meta-llama-Llama-3.1-8B-Instruct",
    "meta-llama-Llama-3.2-3B-Instruct",
    "meta-llama-Llama-3.3-70B-Instruct",
    "microsoft-Phi-3.5-mini-instruct",
    "microsoft-phi-4",
    "mistralai-Mistral-Nemo-Instruct-2407",
};

const char* const kCases[] = {"single_user", "system_user",      "multi_turn", "multi_turn_no_gen",
                              "tools",       "tool_call_result", "chinese",    "content_parts"};

std::filesystem::path data_dir() {
  return shared_dir() / "chat-templates";
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const nlohmann::ordered_json& cases_json() {
  static const nlohmann::ordered_json j =
      nlohmann::ordered_json::parse(read_file(data_dir() / "cases.json"));
  return j;
}

// The variables render.py passes: messages, tools, documents=None, add_generation_prompt, the
// template's special tokens and the template kwargs.
nlohmann::ordered_json context_for(const std::string& name, const std::string& case_id) {
  const auto& all = cases_json();
  for (const auto& c : all["cases"]) {
    if (c["id"] != case_id) continue;
    nlohmann::ordered_json ctx;
    ctx["messages"] = c["messages"];
    ctx["tools"] = c["tools"];
    ctx["documents"] = nullptr;
    ctx["add_generation_prompt"] = c["add_generation_prompt"];
    for (const auto& [k, v] : all["special_tokens"][name].items()) ctx[k] = v;
    for (const auto& [k, v] : all["template_kwargs"].items()) ctx[k] = v;
    return ctx;
  }
  throw std::runtime_error("no case " + case_id + " in cases.json");
}

RenderOptions options_for_data() {
  RenderOptions o;
  o.strftime_now_time = cases_json()["strftime_now_fixed_time"].get<std::string>();
  return o;
}

class ReferenceRender : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(ReferenceRender, MatchesPythonJinja) {
  MINIMA_REQUIRE_SHARED("chat-templates");
  const std::string name = std::get<0>(GetParam());
  const std::string case_id = std::get<1>(GetParam());
  const auto text_path = data_dir() / "expected" / (name + "." + case_id + ".txt");
  const auto error_path = data_dir() / "expected" / (name + "." + case_id + ".error.txt");
  const std::string source = read_file(data_dir() / (name + ".jinja"));
  const nlohmann::ordered_json ctx = context_for(name, case_id);
  if (std::filesystem::exists(text_path)) {
    const std::string want = read_file(text_path);
    EXPECT_TRUE(renders_as(source, ctx, want.c_str(), nullptr, options_for_data()))
        << name << " / " << case_id;
  } else {
    const std::string error = read_file(error_path);
    EXPECT_TRUE(renders_as(source, ctx, nullptr, error.c_str(), options_for_data()))
        << name << " / " << case_id;
  }
}

INSTANTIATE_TEST_SUITE_P(ChatTemplates, ReferenceRender,
                         ::testing::Combine(::testing::ValuesIn(kTemplates),
                                            ::testing::ValuesIn(kCases)),
                         [](const auto& param_info) {
                           std::string n = std::string(std::get<0>(param_info.param)) + "__" +
                                           std::get<1>(param_info.param);
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

// The list above is the whole reference set: a template added to the data must be added here.
TEST(ReferenceRender, CoversEveryTemplateOfTheData) {
  MINIMA_REQUIRE_SHARED("chat-templates");
  std::set<std::string> on_disk;
  for (const auto& e : std::filesystem::directory_iterator(data_dir())) {
    if (e.path().extension() == ".jinja") on_disk.insert(e.path().stem().string());
  }
  const std::set<std::string> listed(std::begin(kTemplates), std::end(kTemplates));
  EXPECT_EQ(on_disk, listed);
  EXPECT_EQ(cases_json()["cases"].size(), std::size(kCases));
}

// Every template parses once and renders repeatedly with the same result (no state leaks
// between renders of one ChatTemplate).
TEST(ReferenceRender, RendersAreRepeatable) {
  MINIMA_REQUIRE_SHARED("chat-templates");
  for (const char* name : kTemplates) {
    const ChatTemplate t =
        ChatTemplate::parse(read_file(data_dir() / (std::string(name) + ".jinja")));
    const nlohmann::ordered_json ctx = context_for(name, "tool_call_result");
    std::string first;
    std::string second;
    try {
      first = t.render(ctx, options_for_data());
      second = t.render(ctx, options_for_data());
    } catch (const TemplateError& e) {
      first = second = e.what();
    }
    EXPECT_EQ(first, second) << name;
  }
}

}  // namespace

}  // namespace minima::test
