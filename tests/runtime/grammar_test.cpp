// The grammar engine: text form, byte-level matching (UTF-8 classes checked against every code
// point), left-recursion refusal, token masks against a brute-force check of every token, and the
// JSON Schema compiler's acceptance/refusal of hand-picked documents and keywords.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/grammar/builder.hpp"
#include "runtime/grammar/grammar.hpp"
#include "runtime/grammar/grammar_cache.hpp"
#include "runtime/grammar/json_schema.hpp"
#include "runtime/grammar/matcher.hpp"
#include "runtime/grammar/token_mask.hpp"

namespace minima::grammar {
namespace {

Matcher matcher(const std::string& text) {
  return Matcher(std::make_shared<const Grammar>(Grammar::parse(text)));
}

std::string utf8(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += char(c);
  } else if (c < 0x800) {
    s += char(0xC0 | (c >> 6));
    s += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += char(0xE0 | (c >> 12));
    s += char(0x80 | ((c >> 6) & 0x3F));
    s += char(0x80 | (c & 0x3F));
  } else {
    s += char(0xF0 | (c >> 18));
    s += char(0x80 | ((c >> 12) & 0x3F));
    s += char(0x80 | ((c >> 6) & 0x3F));
    s += char(0x80 | (c & 0x3F));
  }
  return s;
}

TEST(Grammar, MatchesLiteralsAlternativesAndRepetition) {
  auto m = matcher(R"(root ::= "a" ("b" | "cd")* x{2,3}
x ::= [0-9]   # a digit
)");
  for (const char* ok : {"a00", "ab000", "abcdb12", "acd123"}) EXPECT_TRUE(m.matches(ok)) << ok;
  for (const char* bad : {"", "a0", "a0000", "abc00", "b00", "a00 "})
    EXPECT_FALSE(m.matches(bad)) << bad;
  // A prefix is alive but not complete.
  const auto s = m.advance(m.initial(), "abcd1");
  EXPECT_NE(s, Matcher::kDead);
  EXPECT_FALSE(m.accepts(s));
  EXPECT_TRUE(m.can_continue(s));
  EXPECT_EQ(m.advance(m.initial(), "z"), Matcher::kDead);
}

TEST(Grammar, RulesSpanLinesAndRecurse) {
  auto m = matcher(R"(root ::= list
list ::= "[" ( item
   ( "," item )* )? "]"
item ::= "x" | list)");
  for (const char* ok : {"[]", "[x]", "[x,[x,[]],x]", "[[[[]]]]"}) EXPECT_TRUE(m.matches(ok)) << ok;
  for (const char* bad : {"[", "[x,]", "[,x]", "[[]"}) EXPECT_FALSE(m.matches(bad)) << bad;
}

TEST(Grammar, RightRecursionKeepsStatesBounded) {
  auto m = matcher(R"(root ::= "a" rest
rest ::= "b" rest | "")");
  auto s = m.advance(m.initial(), "a");
  for (int i = 0; i < 5000; ++i) s = m.advance(s, 'b');
  EXPECT_TRUE(m.accepts(s));
  EXPECT_LT(m.n_states(), 10u);
}

// Every code point in and around each class: matched exactly when the class holds it, and as
// its UTF-8 bytes (so nothing invalid can ever be produced).
TEST(Grammar, CodePointClassesMatchExactlyTheirCodePoints) {
  struct Case {
    const char* cls;
    bool (*in)(char32_t);
  };
  const Case cases[] = {
      {"[a-zé]", [](char32_t c) { return (c >= 'a' && c <= 'z') || c == 0xE9; }},
      {"[^\"\\\\\\x00-\\x1F]", [](char32_t c) { return c >= 0x20 && c != '"' && c != '\\'; }},
      {"[\\u0100-\\uFFFF]", [](char32_t c) { return c >= 0x100 && c <= 0xFFFF; }},
      {"[\\U0001F600-\\U0001F64F]", [](char32_t c) { return c >= 0x1F600 && c <= 0x1F64F; }},
      {".", [](char32_t) { return true; }},
  };
  for (const Case& c : cases) {
    auto m = matcher(std::string("root ::= ") + c.cls);
    for (char32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x20000 ? 1 : 97)) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      ASSERT_EQ(m.matches(utf8(cp)), c.in(cp)) << c.cls << " U+" << std::hex << uint32_t(cp);
    }
    // Surrogate encodings and overlong forms are never accepted.
    EXPECT_FALSE(m.matches("\xED\xA0\x80")) << c.cls;
    EXPECT_FALSE(m.matches("\xC0\xAF")) << c.cls;
  }
}

TEST(Grammar, Utf8SequencesCoverRangesWithoutOverlap) {
  const auto seqs = utf8_sequences(0x7F, 0x10FFFF);
  size_t total = 0;
  for (const auto& s : seqs) {
    size_t n = 1;
    for (auto [a, b] : s) n *= size_t(b - a + 1);
    total += n;
  }
  EXPECT_EQ(total, size_t(0x10FFFF - 0x7F + 1 - 0x800));  // minus the 2048 surrogates
}

TEST(Grammar, RefusesBadGrammarsSayingWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"root ::= x", "rule 'x' is not defined"},
      {"root ::= \"a", "unterminated string"},
      {"root ::= [a-", "unterminated character class"},
      {"root ::= (\"a\"", "unclosed '('"},
      {"x ::= \"a\"", "no 'root' rule"},
      {"root ::= root \"a\" | \"b\"", "left-recursive"},
      {"root ::= x\nx ::= \"\" root", "left-recursive"},
      {"root ::= \"a\"{3,1}", "max < min"},
      {"root ::= \"a\"\nroot ::= \"b\"", "defined twice"},
      {"root ::= \"\\q\"", "unknown escape"},
  };
  for (const auto& [text, want] : cases) {
    try {
      Grammar::parse(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const GrammarError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << text << " -> " << e.what();
    }
  }
  try {
    Grammar::parse("root ::= \"a\"\n  \"b\" %");
  } catch (const GrammarError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2, column 7"), std::string::npos) << e.what();
  }
}

// The trie walk allows exactly the tokens whose bytes leave a live state (brute force over every
// token), plus end-of-generation tokens exactly in accepting states; cached masks are the same.
TEST(TokenMask, EqualsBruteForceOverEveryToken) {
  std::mt19937 rng(7);
  std::vector<std::string> pieces = {"",  "{",    "}",    "\"",  "\"a", "a", "ab",   "abc", ":",
                                     ",", " ",    "\n",   "1",   "12",  "-", "true", "tr",  "null",
                                     "é", "\xC3", "\xA9", "\"}", "}\n", "[", "]",    "0.5"};
  const std::string alphabet = "abcdefgh01-:\",{}[] \xC3\xA9";
  for (int i = 0; i < 300; ++i) {
    std::string p;
    const int len = 1 + int(rng() % 4);
    for (int k = 0; k < len; ++k) p += alphabet[rng() % alphabet.size()];
    pieces.push_back(p);
  }
  const int32_t eos = static_cast<int32_t>(pieces.size());
  pieces.push_back("</s>");
  const TokenTrie trie(pieces, {eos});
  auto m = Matcher(std::make_shared<
                   const Grammar>(Grammar::parse(json_schema_to_gbnf(nlohmann::ordered_json::parse(
      R"({"type":"object","properties":{"a":{"type":"string","maxLength":5},"b":{"type":"integer"}},"required":["a"]})")))));
  std::vector<uint64_t> mask(trie.mask_words()), cached(trie.mask_words());
  // Walk random allowed paths and compare at every step.
  for (int run = 0; run < 20; ++run) {
    auto s = m.initial();
    for (int step = 0; step < 40; ++step) {
      trie.walk(m, s, mask);
      trie.allowed(m, s, cached);
      ASSERT_EQ(mask, cached);
      std::vector<int32_t> ok;
      for (int32_t t = 0; t < static_cast<int32_t>(pieces.size()); ++t) {
        const bool want = t == eos ? m.accepts(s)
                                   : !pieces[size_t(t)].empty() &&
                                         m.advance(s, pieces[size_t(t)]) != Matcher::kDead;
        ASSERT_EQ(bool((mask[size_t(t) >> 6] >> (t & 63)) & 1), want) << "token " << t;
        if (want) ok.push_back(t);
      }
      ASSERT_FALSE(ok.empty());
      const int32_t t = ok[rng() % ok.size()];
      if (t == eos) break;
      s = m.advance(s, pieces[size_t(t)]);
    }
  }
}

TEST(JsonSchema, AcceptsValidAndRefusesInvalidDocuments) {
  struct Case {
    const char* schema;
    std::vector<const char*> ok, bad;
  };
  const Case cases[] = {
      {R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150}},"required":["name"]})",
       {R"({"name":"x"})", R"({"name":"x","age":150})", R"({ "name": "a\"b", "age": 0 })"},
       {R"({"age":3})", R"({"name":"x","age":151})", R"({"name":"x","age":-1})",
        R"({"name":"x","other":1})", R"({"age":3,"name":"x"})", R"({"name":"x",})"}},
      {R"({"type":"array","items":{"enum":["a","b",3]},"minItems":1,"maxItems":2})",
       {R"(["a"])", R"(["b", 3])"},
       {"[]", R"(["a","a","a"])", R"(["c"])"}},
      {R"({"type":["string","null"],"minLength":2,"maxLength":3})",
       {R"("ab")", R"("abc")", "null", R"("é\u00e9")"},
       {R"("a")", R"("abcd")", "1"}},
      {R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer","minimum":-20,"maximum":-3},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v","kids"]}},"$ref":"#/$defs/node"})",
       {R"({"v":-3,"kids":[]})", R"({"v":-20,"kids":[{"v":-11,"kids":[]}]})"},
       {R"({"v":-2,"kids":[]})", R"({"v":-21,"kids":[]})", R"({"v":-3})"}},
      {R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3}(x|yz)?$"})",
       {R"("AB-123")", R"("QZ-000yz")"},
       {R"("AB-12")", R"("ab-123")", R"("AB-123y")", R"(" AB-123")"}},
      {R"({"type":"string","pattern":"a\"b"})",
       {R"("a\"b")", R"("xxa\"byy")"},
       {R"("ab")", R"("a\b")"}},
      {R"({"type":"string","format":"date"})",
       {R"("2024-02-28")", R"("1999-12-31")", R"("2000-04-30")"},
       {R"("2024-02-30")", R"("2024-04-31")", R"("2024-13-01")", R"("24-01-01")"}},
      {R"({"type":"string","format":"date-time"})",
       {R"("2024-02-28T23:59:59Z")", R"("2024-02-28T00:00:00.5+05:30")"},
       {R"("2024-02-28T24:00:00Z")", R"("2024-02-28 10:00:00Z")", R"("2024-02-28T10:00:00")"}},
      {R"({"type":"string","format":"uuid"})",
       {R"("123e4567-e89b-12d3-a456-426614174000")"},
       {R"("123e4567e89b12d3a456426614174000")", R"("123E4567-e89b-12d3-a456-42661417400")"}},
      {R"({"type":"number","minimum":-2,"maximum":3})",
       {"3", "3.000", "-2", "-2.0", "0.5", "-1.999", "2.99", "-0"},
       {"3.01", "-2.001", "4", "-3", "1e2"}},
      {R"({"type":"number","minimum":5})", {"5", "5.5", "123456.25"}, {"4.99", "-5"}},
      {R"({"type":"number","maximum":-3})", {"-3", "-3.5", "-1000"}, {"-2.99", "0", "3"}},
      {R"({"type":"array","prefixItems":[{"type":"integer","minimum":0,"maximum":9},{"type":"boolean"}],"items":{"type":"null"},"minItems":1,"maxItems":4})",
       {"[1]", "[1,true]", "[1,true,null]", "[1,false,null,null]"},
       {"[]", "[true]", "[1,2]", "[1,true,null,null,null]", "[1,true,1]"}},
      {R"({"type":"array","prefixItems":[{"type":"integer"}],"items":false})",
       {"[]", "[7]"},
       {"[7,8]"}},
      {R"({"allOf":[{"$ref":"#/$defs/base"},{"properties":{"extra":{"type":"boolean"}},"required":["extra"]}],"$defs":{"base":{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}}})",
       {R"({"id":1,"extra":true})"},
       {R"({"id":1})", R"({"extra":true})"}},
      {R"({"anyOf":[{"type":"boolean"},{"const":{"k":[1,2]}}]})",
       {"true", R"({"k":[1,2]})"},
       {R"({"k":[1]})", "1"}},
  };
  for (const Case& c : cases) {
    auto m = Matcher(std::make_shared<const Grammar>(
        Grammar::parse(json_schema_to_gbnf(nlohmann::ordered_json::parse(c.schema)))));
    for (const char* d : c.ok) EXPECT_TRUE(m.matches(d)) << c.schema << "\n  should accept " << d;
    for (const char* d : c.bad) EXPECT_FALSE(m.matches(d)) << c.schema << "\n  should refuse " << d;
  }
}

// The schemas of OpenAI's structured-outputs guide compile, and accept a document of the shape
// the guide shows.
TEST(JsonSchema, AcceptsOpenAiGuideExamples) {
  const std::pair<const char*, const char*> cases[] = {
      // Chain-of-thought math tutoring.
      {R"({"type":"object","properties":{"steps":{"type":"array","items":{"type":"object","properties":{"explanation":{"type":"string"},"output":{"type":"string"}},"required":["explanation","output"],"additionalProperties":false}},"final_answer":{"type":"string"}},"required":["steps","final_answer"],"additionalProperties":false})",
       R"({"steps":[{"explanation":"Subtract 31 from both sides.","output":"8x = -30"},{"explanation":"Divide by 8.","output":"x = -15/4"}],"final_answer":"x = -3.75"})"},
      // UI generation: a recursive component tree.
      {R"({"type":"object","properties":{"type":{"type":"string","description":"The type of the UI component","enum":["div","button","header","section","field","form"]},"label":{"type":"string"},"children":{"type":"array","description":"Nested UI components","items":{"$ref":"#"}},"attributes":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"value":{"type":"string"}},"additionalProperties":false,"required":["name","value"]}}},"required":["type","label","children","attributes"],"additionalProperties":false})",
       R"({"type":"form","label":"User Profile","children":[{"type":"field","label":"First Name","children":[],"attributes":[{"name":"type","value":"text"}]},{"type":"button","label":"Submit","children":[],"attributes":[{"name":"type","value":"submit"}]}],"attributes":[]})"},
      // Moderation: enum output with a nullable explanation.
      {R"({"type":"object","properties":{"is_violating":{"type":"boolean"},"category":{"type":["string","null"],"enum":["violence","sexual","self_harm"]},"explanation_if_violating":{"type":["string","null"]}},"required":["is_violating","category","explanation_if_violating"],"additionalProperties":false})",
       R"({"is_violating":true,"category":"violence","explanation_if_violating":"threat"})"},
      // Structured data extraction with $defs.
      {R"({"$defs":{"author":{"type":"object","properties":{"name":{"type":"string"},"affiliation":{"type":["string","null"]}},"required":["name","affiliation"],"additionalProperties":false}},"type":"object","properties":{"title":{"type":"string"},"authors":{"type":"array","items":{"$ref":"#/$defs/author"}},"keywords":{"type":"array","items":{"type":"string"}}},"required":["title","authors","keywords"],"additionalProperties":false})",
       R"({"title":"Attention","authors":[{"name":"A. V.","affiliation":null}],"keywords":["transformer"]})"},
  };
  for (const auto& [schema, doc] : cases) {
    auto m = Matcher(std::make_shared<const Grammar>(
        Grammar::parse(json_schema_to_gbnf(nlohmann::ordered_json::parse(schema)))));
    EXPECT_TRUE(m.matches(doc)) << schema << "\n  should accept " << doc;
  }
}

TEST(JsonSchema, IntegerRangesAreExact) {
  for (auto [lo, hi] : {std::pair<int64_t, int64_t>{0, 0}, {-7, 12}, {95, 1003}, {-1200, -99}}) {
    const std::string schema = R"({"type":"integer","minimum":)" + std::to_string(lo) +
                               R"(,"maximum":)" + std::to_string(hi) + "}";
    auto m = Matcher(std::make_shared<const Grammar>(
        Grammar::parse(json_schema_to_gbnf(nlohmann::ordered_json::parse(schema)))));
    for (int64_t v = -1500; v <= 1500; ++v)
      ASSERT_EQ(m.matches(std::to_string(v)), v >= lo && v <= hi) << schema << " " << v;
    EXPECT_FALSE(m.matches("-0" + std::to_string(std::abs(lo))));
    EXPECT_FALSE(m.matches("0" + std::to_string(std::abs(hi)))) << "leading zero";
  }
}

TEST(JsonSchema, RefusesUnsupportedKeywordsNamingThemAndWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"string","format":"hostname"})", "/format"},
      {R"({"type":"object","properties":{"a":{"type":"string","pattern":"a(?=x)b"}}})",
       "/properties/a/pattern"},
      {R"({"type":"string","pattern":"(a)\\1"})", "/pattern"},
      {R"({"type":"string","pattern":"^a","maxLength":3})", "/maxLength"},
      {R"({"type":"string","format":"date","pattern":"x"})", "/format"},
      {R"({"allOf":[{"properties":{"a":{"type":"integer"}},"additionalProperties":false},{"properties":{"b":{"type":"integer"}}}]})",
       "/allOf"},
      {R"({"allOf":[{"type":"string"},{"type":"integer"}]})", "/allOf"},
      {R"({"type":"array","prefixItems":[{"type":"integer"}],"items":false,"minItems":2})",
       "/minItems"},
      {R"({"oneOf":[{"type":"string"}]})", "/oneOf"},
      {R"({"type":"array","items":{"type":"integer"},"uniqueItems":true})", "/uniqueItems"},
      {R"({"type":"number","minimum":0.5})", "/minimum"},
      {R"({"type":"number","exclusiveMinimum":0})", "/exclusiveMinimum"},
      {R"({"not":{}})", "/not"},
      {R"({"$ref":"#/$defs/missing"})", "/$ref"},
      {R"({"type":"object","properties":{"a/b":{"type":"integer","multipleOf":2}}})",
       "/properties/a~1b/multipleOf"},
  };
  for (const auto& [schema, pointer] : cases) {
    try {
      json_schema_to_gbnf(nlohmann::ordered_json::parse(schema));
      ADD_FAILURE() << "accepted " << schema;
    } catch (const SchemaError& e) {
      EXPECT_EQ(e.pointer(), pointer) << schema << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(e.keyword()), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace minima::grammar

namespace minima::grammar {
namespace {

// Every JSON Schema 2020-12 assertion and applicator keyword minima does not enforce is refused
// by name, wherever it appears (here: inside a property of an object).
TEST(JsonSchema, EveryUnsupportedKeywordIsRefusedByName) {
  const char* keywords[] = {"not",
                            "oneOf",
                            "if",
                            "then",
                            "else",
                            "dependentRequired",
                            "dependentSchemas",
                            "patternProperties",
                            "propertyNames",
                            "uniqueItems",
                            "contains",
                            "minContains",
                            "maxContains",
                            "multipleOf",
                            "exclusiveMinimum",
                            "exclusiveMaximum",
                            "unevaluatedProperties",
                            "unevaluatedItems",
                            "contentEncoding",
                            "contentMediaType",
                            "contentSchema",
                            "$anchor",
                            "$dynamicRef",
                            "$dynamicAnchor",
                            "dependencies",
                            "additionalItems",
                            "x-unknown"};
  for (const char* k : keywords) {
    nlohmann::ordered_json schema = {{"type", "object"},
                                     {"properties", {{"field", {{"type", "integer"}, {k, 1}}}}}};
    try {
      json_schema_to_gbnf(schema);
      ADD_FAILURE() << "accepted " << k;
    } catch (const SchemaError& e) {
      EXPECT_EQ(e.keyword(), k);
      EXPECT_EQ(e.pointer(), std::string("/properties/field/") + k);
      EXPECT_NE(std::string(e.what()).find(std::string("'") + k + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(GrammarCache, SameTextSameGrammarAndEvictsTheLeastRecent) {
  GrammarCache cache(2);
  const auto a = cache.get("root ::= \"a\"");
  EXPECT_EQ(cache.get("root ::= \"a\"").get(), a.get());
  const auto b = cache.get("root ::= \"b\"");
  cache.get("root ::= \"a\"");  // a is now the most recent
  cache.get("root ::= \"c\"");  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.get("root ::= \"a\"").get(), a.get());
  EXPECT_NE(cache.get("root ::= \"b\"").get(), b.get());
  EXPECT_THROW(cache.get("root ::= nope"), GrammarError);
}

}  // namespace
}  // namespace minima::grammar
