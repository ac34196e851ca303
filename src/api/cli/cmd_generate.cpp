// minima generate: tokenize a prompt, stream the completion to stdout (only the new text), and
// print timing to stderr with --stats.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "runtime/engine/generate.hpp"
#include "runtime/grammar/grammar.hpp"
#include "runtime/grammar/json_schema.hpp"
#include "runtime/grammar/token_mask.hpp"

namespace minima::cli {

int cmd_generate(int argc, char** argv, int first) {
  ArgParser p("generate", "Stream a completion of --prompt to stdout.");
  p.opt("--model", "-m", "FILE", "GGUF model (default: the built-in minima-mini)")
      .opt("--prompt", "-p", "TEXT", "prompt text")
      .opt("--file", "-f", "FILE", "read the prompt from a file instead")
      .opt("-n", "--n-predict", "N", "tokens to generate (default 128)")
      .opt("--temp", "", "T", "temperature; 0 = greedy (default 0.8)")
      .opt("--top-k", "", "K", "top-k; 0 = off (default 40)")
      .opt("--top-p", "", "P", "top-p nucleus; 1 = off (default 0.95)")
      .opt("--min-p", "", "P", "min-p; 0 = off (default 0.05)")
      .opt("--repeat-penalty", "", "R", "repetition penalty; 1 = off (default 1)")
      .opt("--repeat-last-n", "", "N", "penalty window in tokens; -1 = all (default 64)")
      .opt("--presence-penalty", "", "P", "OpenAI-style presence penalty (default 0)")
      .opt("--frequency-penalty", "", "P", "OpenAI-style frequency penalty (default 0)")
      .opt("--seed", "-s", "N", "RNG seed (default 12648430)")
      .opt("--stop", "", "TEXT", "stop when this text is generated (not printed)")
      .opt("--grammar", "", "FILE", "constrain the output to this grammar (GBNF-like text)")
      .opt("--json-schema", "", "FILE", "constrain the output to JSON valid against this schema")
      .flag("--json", "constrain the output to any JSON object")
      .opt("--samples", "", "N",
           "N independent completions (seeds seed..seed+N-1), one JSON string per line")
      .opt("--ctx", "-c", "N", "context size (default: prompt + n)")
      .opt("--batch", "-b", "N", "prompt tokens per forward chunk (default 256)")
      .flag("--ignore-eos", "do not stop at end-of-generation tokens")
      .flag("--no-special", "do not add BOS/EOS to the prompt")
      .flag("--parse-special", "let the prompt contain special tokens such as <|im_start|>")
      .flag("--exact", "scalar reference matmuls with F32 activations (slow; for checking)")
      .flag("--stats", "print prompt/generation speed to stderr");
  add_compute_options(p);
  add_load_options(p);
  if (!p.parse(argc, argv, first)) return 0;

  std::string prompt;
  if (auto f = p.get("--file")) {
    if (p.has("--prompt")) fail("minima generate: give --prompt or --file, not both");
    prompt = read_file(*f);
  } else {
    prompt = p.required("--prompt");
  }
  const int64_t n_predict = p.get_int("-n", 128, 0, 1 << 24);
  SamplingParams sp;
  sp.temperature = static_cast<float>(p.get_float("--temp", sp.temperature));
  sp.top_k = static_cast<int32_t>(p.get_int("--top-k", sp.top_k, 0, INT32_MAX));
  sp.top_p = static_cast<float>(p.get_float("--top-p", sp.top_p));
  sp.min_p = static_cast<float>(p.get_float("--min-p", sp.min_p));
  sp.repeat_penalty = static_cast<float>(p.get_float("--repeat-penalty", sp.repeat_penalty));
  sp.penalty_last_n =
      static_cast<int32_t>(p.get_int("--repeat-last-n", sp.penalty_last_n, -1, INT32_MAX));
  sp.presence_penalty = static_cast<float>(p.get_float("--presence-penalty", 0));
  sp.frequency_penalty = static_cast<float>(p.get_float("--frequency-penalty", 0));
  sp.seed = static_cast<uint64_t>(p.get_int("--seed", static_cast<int64_t>(sp.seed), 0, INT64_MAX));
  GenerateOptions go;
  go.n_predict = n_predict;
  go.ignore_eos = p.get_flag("--ignore-eos");
  if (auto s = p.get("--stop")) go.stop.push_back(*s);

  const int constraints =
      int(p.has("--grammar")) + int(p.has("--json-schema")) + int(p.get_flag("--json"));
  if (constraints > 1)
    fail("minima generate: give at most one of --grammar, --json-schema, --json");
  if (auto f = p.get("--grammar")) {
    go.grammar = std::make_shared<const grammar::Grammar>(grammar::Grammar::parse(read_file(*f)));
  } else if (auto f2 = p.get("--json-schema")) {
    nlohmann::ordered_json schema;
    try {
      schema = nlohmann::ordered_json::parse(read_file(*f2));
    } catch (const nlohmann::json::parse_error& e) {
      fail("minima generate: ", *f2, " is not valid JSON: ", e.what());
    }
    go.grammar = std::make_shared<const grammar::Grammar>(
        grammar::Grammar::parse(grammar::json_schema_to_gbnf(schema)));
  } else if (p.get_flag("--json")) {
    go.grammar = std::make_shared<const grammar::Grammar>(
        grammar::Grammar::parse(grammar::json_value_gbnf(true)));
  }
  const int64_t n_samples = p.get_int("--samples", 0, 0, 1 << 20);

  Compute c = make_compute(p);
  const Model model = Model::load(model_path(p), file_load(p));
  const Tokenizer tok = Tokenizer::from_gguf(model.file());
  const std::vector<int32_t> ids =
      tok.encode(prompt, !p.get_flag("--no-special"), p.get_flag("--parse-special"));
  if (ids.empty()) fail("minima generate: the prompt produced no tokens");

  SessionOptions so;
  so.n_ctx = p.get_int("--ctx", static_cast<int64_t>(ids.size()) + n_predict, 1, 1 << 24);
  so.n_batch = p.get_int("--batch", 256, 1, 1 << 16);
  so.exact = p.get_flag("--exact");
  if (so.n_ctx > model.hparams().n_ctx_train)
    std::fprintf(stderr, "warning: context %lld exceeds the model's training context %lld\n",
                 static_cast<long long>(so.n_ctx),
                 static_cast<long long>(model.hparams().n_ctx_train));
  std::optional<grammar::TokenTrie> trie;
  if (go.grammar) {
    trie.emplace(grammar::TokenTrie::from_tokenizer(tok));
    go.trie = &*trie;
  }
  Session session(model, *c.kernels, *c.pool, so);

  if (n_samples > 0) {
    // Independent completions of one prompt, each printed as a JSON string on its own line.
    for (int64_t i = 0; i < n_samples; ++i) {
      SamplingParams spi = sp;
      spi.seed = sp.seed + static_cast<uint64_t>(i);
      Sampler si(model.hparams().n_vocab, spi);
      session.reset();
      std::string text;
      generate(
          session, tok, si, ids, go,
          [&](std::string_view t) {
            text += t;
            return true;
          },
          [](int32_t) {});
      const std::string line =
          nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::fprintf(stdout, "%s\n", line.c_str());
    }
    return 0;
  }
  Sampler sampler(model.hparams().n_vocab, sp);

  const GenerateResult r = generate(
      session, tok, sampler, ids, go,
      [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
      },
      [](int32_t) {});
  std::fputc('\n', stdout);
  if (p.get_flag("--stats")) {
    std::fprintf(stderr,
                 "prompt: %lld tokens in %.3f s (%.1f t/s); generated: %lld tokens in %.3f s (%.1f "
                 "t/s); finish: %s\n",
                 static_cast<long long>(r.n_prompt), r.prompt_seconds,
                 r.n_prompt / std::max(r.prompt_seconds, 1e-9),
                 static_cast<long long>(r.n_generated), r.gen_seconds,
                 r.n_generated / std::max(r.gen_seconds, 1e-9),
                 std::string(finish_reason_name(r.finish)).c_str());
    if (go.grammar)
      std::fprintf(stderr, "constraint: %.1f ms of the generation (%.1f us per token)\n",
                   r.constraint_seconds * 1e3,
                   r.constraint_seconds * 1e6 / std::max<double>(1, double(r.n_generated)));
  }
  return 0;
}

}  // namespace minima::cli
