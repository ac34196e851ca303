#include "runtime/tokenizer/pre_tokenizer.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>

#include "core/error.hpp"

namespace minima::tok {

namespace {

// Pattern strings are the public pre-tokenizer specifications from the models' tokenizer.json.
// GPT-2's byte-level regex; many families reuse it.
constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Llama 3 (tiktoken cl100k): digits in groups of up to three.
constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2: like Llama 3 but every digit is its own word.
constexpr std::string_view kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// GPT-4o (tiktoken o200k): case-aware letter runs with attached contractions.
constexpr std::string_view kO200k =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Mistral tekken.
constexpr std::string_view kTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek LLM: explicit Latin/Greek/Cyrillic/... letter ranges, ASCII and full-width punctuation.
constexpr std::string_view kDeepseekLetters =
    R"(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)";
constexpr std::string_view kDeepseekPunct = R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)";
constexpr std::string_view kCjkHangul = R"([一-龥ࠀ-一가-퟿]+)";
constexpr std::string_view kCjkKana = R"([一-龥぀-ゟ゠-ヿ]+)";
constexpr std::string_view kDeepseek3 =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kBloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";

const std::vector<std::pair<std::vector<std::string_view>, PreSpec>>& pre_table() {
  static const std::vector<std::pair<std::vector<std::string_view>, PreSpec>> table = {
      {{"default"},
       {"default", {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"}}},
      {{"llama-bpe", "llama3", "llama-v3", "falcon3"}, {"llama-bpe", {kLlama3}, true, true}},
      {{"dbrx", "smaug-bpe"}, {"dbrx", {kLlama3}}},
      {{"chatglm-bpe"}, {"chatglm-bpe", {kLlama3}, false, false, true}},
      {{"qwen2", "deepseek-r1-qwen", "megrez", "stablelm2"}, {"qwen2", {kQwen2}}},
      {{"gpt-4o"}, {"gpt-4o", {kO200k}}},
      {{"tekken"}, {"tekken", {kTekken}, true, true}},
      {{"deepseek-llm"},
       {"deepseek-llm",
        {R"([\r\n])", kDeepseekLetters, kDeepseekPunct, R"(\s+$)", kCjkHangul, R"(\p{N}+)"}}},
      {{"deepseek-coder"},
       {"deepseek-coder", {R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kCjkHangul, R"(\p{N})"}}},
      {{"deepseek-v3"}, {"deepseek-v3", {R"(\p{N}{1,3})", kCjkKana, kDeepseek3}}},
      {{"falcon"}, {"falcon", {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"},
       {"starcoder", {R"(\p{N})", kGpt2}}},
      {{"gpt-2", "mpt", "olmo", "jais", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en",
        "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe"},
       {"gpt-2", {kGpt2}}},
      {{"poro-chat", "bloom", "gpt3-finnish"}, {"bloom", {kBloom}}},
      {{"viking"}, {"viking", {kBloom, R"(\p{N})"}}},
      {{"chameleon"},
       {"chameleon",
        {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )",
         R"(\p{N})", R"([\p{P}!-/:-@\[-`{-~])", kGpt2},
        false,
        true}},
  };
  return table;
}

}  // namespace

const PreSpec* find_pre_spec(std::string_view name) {
  for (const auto& [names, spec] : pre_table()) {
    for (const auto n : names) {
      if (n == name) return &spec;
    }
  }
  return nullptr;
}

std::string supported_pre_names() {
  std::string out;
  for (const auto& [names, spec] : pre_table()) {
    for (const auto n : names) {
      if (!out.empty()) out += ", ";
      out += n;
    }
  }
  return out;
}

struct PreTokenizer::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(const PreSpec& spec) : name_(spec.canonical) {
  for (const std::string_view pattern : spec.regexes) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    auto c = std::make_unique<Compiled>();
    c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                            PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &err_off, nullptr);
    if (c->code == nullptr) {
      std::array<PCRE2_UCHAR, 256> msg{};
      pcre2_get_error_message(err, msg.data(), msg.size());
      fail("pre-tokenizer '", spec.canonical, "': regex /", pattern, "/ at offset ", err_off, ": ",
           reinterpret_cast<const char*>(msg.data()));
    }
    // JIT is an optimisation only: without it pcre2_match interprets the same pattern.
    pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE);
    regexes_.push_back(std::move(c));
  }
}

PreTokenizer::~PreTokenizer() = default;

namespace {

// Owns the per-call PCRE2 state. The JIT stack is made only when a match overflows the default
// 32 KiB one (long whitespace runs under look-aheads): allocating it maps memory, too slow to do
// for every fragment.
struct MatchState {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* ctx = nullptr;
  pcre2_jit_stack* stack = nullptr;
  MatchState() {
    md = pcre2_match_data_create(2, nullptr);
    if (md == nullptr) fail("pre-tokenizer: out of memory");
  }
  ~MatchState() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(ctx);
    pcre2_match_data_free(md);
  }
  MatchState(const MatchState&) = delete;
  MatchState& operator=(const MatchState&) = delete;

  // Returns false when a bigger stack is already in use (the caller then reports the error).
  bool grow_stack() {
    if (stack != nullptr) return false;
    ctx = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(256 * 1024, 64 * 1024 * 1024, nullptr);
    if (ctx == nullptr || stack == nullptr) fail("pre-tokenizer: out of memory");
    pcre2_jit_stack_assign(ctx, nullptr, stack);
    return true;
  }
};

size_t char_len(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

}  // namespace

void PreTokenizer::split(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  if (text.empty()) return;
  MatchState st;
  std::vector<std::pair<size_t, size_t>> cur{{0, text.size()}};
  std::vector<std::pair<size_t, size_t>> next;
  for (const auto& re : regexes_) {
    next.clear();
    next.reserve(cur.size() * 2);
    for (const auto& [b, e] : cur) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + b);
      const size_t len = e - b;
      size_t last = 0;   // end of the previous match (relative to b)
      size_t start = 0;  // where the next search begins
      while (start < len) {
        const int rc =
            pcre2_match(re->code, subject, len, start, PCRE2_NO_UTF_CHECK, st.md, st.ctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
          std::array<PCRE2_UCHAR, 256> msg{};
          pcre2_get_error_message(rc, msg.data(), msg.size());
          fail("pre-tokenizer '", name_, "': matching a ", len,
               "-byte fragment failed: ", reinterpret_cast<const char*>(msg.data()));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
        const size_t ms = ov[0], me = ov[1];
        if (me == ms) {  // an empty match splits nothing; search again one character on
          start = ms + char_len(text, b + ms);
          continue;
        }
        if (ms > last) next.emplace_back(b + last, b + ms);
        next.emplace_back(b + ms, b + me);
        last = start = me;
      }
      if (last < len) next.emplace_back(b + last, e);
    }
    cur.swap(next);
  }
  out.insert(out.end(), cur.begin(), cur.end());
}

}  // namespace minima::tok
