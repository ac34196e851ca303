// minima run: chat with a model in the terminal. With --prompt, one answer; otherwise a
// conversation read line by line from stdin ("/bye" or end of input ends it, "/reset" forgets it).
// Each turn renders the whole conversation with the model's chat template and generates the
// assistant's answer; when the conversation outgrows the context, the oldest turns are dropped.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "core/error.hpp"
#include "runtime/chat/template.hpp"
#include "runtime/engine/generate.hpp"

namespace minima::cli {

int cmd_run(int argc, char** argv, int first) {
  ArgParser p("run", "Chat with a model in the terminal (default model: the built-in minima-mini).");
  p.opt("--model", "-m", "FILE", "GGUF model (default: the built-in minima-mini)")
      .opt("--prompt", "-p", "TEXT", "ask one question, print the answer and exit")
      .opt("--system", "", "TEXT", "system message for the conversation")
      .opt("-n", "--n-predict", "N", "longest answer in tokens (default 256)")
      .opt("--temp", "", "T", "temperature; 0 = greedy (default 0.7)")
      .opt("--top-k", "", "K", "top-k; 0 = off (default 40)")
      .opt("--top-p", "", "P", "top-p; 1 = off (default 0.9)")
      .opt("--repeat-penalty", "", "R", "repetition penalty; 1 = off (default 1.1)")
      .opt("--seed", "-s", "N", "RNG seed (default 12648430)")
      .opt("--ctx", "-c", "N", "context size (default: the model's, at most 4096)");
  add_compute_options(p);
  add_load_options(p);
  if (!p.parse(argc, argv, first)) return 0;

  SamplingParams sp;
  sp.temperature = float(p.get_float("--temp", 0.7));
  sp.top_k = int32_t(p.get_int("--top-k", 40, 0, INT32_MAX));
  sp.top_p = float(p.get_float("--top-p", 0.9));
  sp.repeat_penalty = float(p.get_float("--repeat-penalty", 1.1));
  sp.seed = uint64_t(p.get_int("--seed", int64_t(sp.seed), 0, INT64_MAX));
  GenerateOptions go;
  go.n_predict = p.get_int("-n", 256, 1, 1 << 20);

  Compute c = make_compute(p);
  const std::string path = model_path(p);
  const Model model = Model::load(path, file_load(p));
  const Tokenizer tok = Tokenizer::from_gguf(model.file());
  const auto src = model.file().get_string("tokenizer.chat_template");
  const ChatTemplate tmpl =
      ChatTemplate::parse(src ? std::string_view(*src) : *builtin_template("chatml"));
  SessionOptions so;
  so.n_ctx = p.get_int("--ctx", std::min<int64_t>(model.hparams().n_ctx_train, 4096), 16, 1 << 20);
  Session session(model, *c.kernels, *c.pool, so);
  Sampler sampler(model.hparams().n_vocab, sp);
  const std::string bos = tok.bos() >= 0 ? tok.token_text(tok.bos()) : "";
  const std::string eos = tok.eos() >= 0 ? tok.token_text(tok.eos()) : "";

  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (auto s = p.get("--system")) messages.push_back({{"role", "system"}, {"content", *s}});
  const size_t keep = messages.size();

  const auto answer = [&](const std::string& user) {
    messages.push_back({{"role", "user"}, {"content", user}});
    std::vector<int32_t> ids;
    for (;;) {
      const std::string prompt = tmpl.render({{"messages", messages},
                                              {"add_generation_prompt", true},
                                              {"bos_token", bos},
                                              {"eos_token", eos}});
      ids = tok.encode(prompt, tok.add_bos(), true);
      if (int64_t(ids.size()) + go.n_predict <= so.n_ctx || messages.size() <= keep + 1) break;
      messages.erase(messages.begin() + long(keep));  // drop the oldest turn
    }
    if (int64_t(ids.size()) + go.n_predict > so.n_ctx)
      fail("minima run: the message is ", ids.size(), " tokens; with -n ", go.n_predict,
           " it does not fit the context of ", so.n_ctx);
    session.reset();
    std::string reply;
    generate(
        session, tok, sampler, ids, go,
        [&](std::string_view text) {
          reply += text;
          std::fwrite(text.data(), 1, text.size(), stdout);
          std::fflush(stdout);
          return true;
        },
        [](int32_t) {});
    std::fputc('\n', stdout);
    messages.push_back({{"role", "assistant"}, {"content", reply}});
  };

  if (auto q = p.get("--prompt")) {
    answer(*q);
    return 0;
  }
  const bool tty = isatty(STDIN_FILENO);
  if (tty)
    std::fprintf(stderr, "minima run: %s (type /bye to quit, /reset to start over)\n", path.c_str());
  for (std::string line;;) {
    if (tty) std::fputs(">>> ", stdout), std::fflush(stdout);
    if (!std::getline(std::cin, line) || line == "/bye") break;
    if (line == "/reset") {
      messages.erase(messages.begin() + long(keep), messages.end());
      continue;
    }
    if (line.empty()) continue;
    answer(line);
  }
  return 0;
}

}  // namespace minima::cli
