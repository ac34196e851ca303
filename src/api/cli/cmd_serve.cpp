// minima serve: the OpenAI-compatible server. Loads the model, starts the engine thread, and
// serves HTTP until SIGINT/SIGTERM.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/cli/commands.hpp"
#include "api/cli/common.hpp"
#include "api/server/server.hpp"
#include "core/error.hpp"

namespace minima::cli {

int cmd_serve(int argc, char** argv, int first) {
  ArgParser p("serve", "Serve a model with an OpenAI-compatible HTTP API.");
  p.opt("--model", "-m", "FILE", "GGUF model")
      .opt("--host", "", "ADDR", "address to bind (default 127.0.0.1)")
      .opt("--port", "", "N", "port (default 8080; 0 = any free port, printed at startup)")
      .opt("--alias", "", "NAME", "model id clients use (default: the file name without .gguf)")
      .opt("--ctx", "-c", "N",
           "longest sequence, prompt + completion (default: the model's, at most 4096)")
      .opt("--kv-blocks", "", "N",
           "KV cache blocks of 16 positions shared by all requests (default: 4 contexts)")
      .opt("--parallel-limit", "", "N", "sequences generated at once (default 64)")
      .opt("--max-queue", "", "N", "requests waiting before new ones get 429 (default 256)")
      .opt("--batch", "-b", "N", "tokens per engine step (default 256)")
      .multi("--api-key", "", "KEY",
             "accept this Bearer key (repeatable); without keys, no authentication")
      .opt("--api-key-file", "", "FILE", "accept every non-empty line of FILE as a key")
      .opt("--chat-template", "", "NAME|FILE",
           "chatml, llama3, zephyr, or a Jinja file (default: the model's)")
      .opt("--http-threads", "", "N", "connections served at once (default 128)")
      .opt("--max-body", "", "BYTES", "largest request body (default 8388608)")
      .flag("--log-content", "log prompts and outputs (default: only sizes and timings)");
  add_compute_options(p);
  if (!p.parse(argc, argv, first)) return 0;

  // Signals go to a dedicated thread (blocked here, before any other thread exists).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  const std::string path = p.required("--model");
  Compute c = make_compute(p);
  const Model model = Model::load(path);
  const Tokenizer tok = Tokenizer::from_gguf(model.file());

  server::ServerOptions so;
  so.host = p.get("--host").value_or("127.0.0.1");
  so.port = static_cast<int>(p.get_int("--port", 8080, 0, 65535));
  so.model_id = p.get("--alias").value_or(std::filesystem::path(path).stem().string());
  so.http_threads = static_cast<int>(p.get_int("--http-threads", 128, 1, 4096));
  so.max_body_bytes = static_cast<size_t>(p.get_int("--max-body", 8 << 20, 1024, int64_t(1) << 32));
  so.log_content = p.get_flag("--log-content");
  so.api_keys = p.get_all("--api-key");
  if (auto f = p.get("--api-key-file")) {
    std::ifstream in(*f);
    if (!in) fail("--api-key-file: cannot read ", *f);
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) so.api_keys.push_back(line);
    }
    if (so.api_keys.empty()) fail("--api-key-file: ", *f, " holds no keys");
  }
  const std::string tmpl_opt = p.get("--chat-template").value_or("");
  if (!tmpl_opt.empty()) {
    if (auto b = builtin_template(tmpl_opt))
      so.chat_template = std::string(*b);
    else
      so.chat_template = read_file(tmpl_opt);
  } else if (auto t = model.file().get_string("tokenizer.chat_template")) {
    so.chat_template = *t;
  } else {
    so.chat_template = std::string(*builtin_template("chatml"));
    std::fprintf(stderr,
                 "note: the model has no chat template; using the built-in chatml template\n");
  }

  EngineOptions eo;
  eo.n_ctx = p.get_int("--ctx", std::min<int64_t>(model.hparams().n_ctx_train, 4096), 16, 1 << 20);
  eo.kv_blocks = p.get_int("--kv-blocks", 0, 0, 1 << 24);
  eo.max_running = p.get_int("--parallel-limit", 64, 1, 4096);
  eo.max_queue = p.get_int("--max-queue", 256, 1, 1 << 20);
  eo.max_batch = p.get_int("--batch", 256, 1, 1 << 16);
  eo.prefill_chunk = eo.max_batch;
  Engine engine(model, tok, *c.kernels, *c.pool, eo);

  server::Server srv(model, tok, engine, so);
  const int port = srv.bind();
  std::fprintf(
      stderr,
      "minima serve: model '%s' (%s), context %lld, %lld KV blocks, listening on http://%s:%d\n",
      so.model_id.c_str(), std::string(model.arch().name).c_str(), static_cast<long long>(eo.n_ctx),
      static_cast<long long>(engine.options().kv_blocks), so.host.c_str(), port);
  std::fflush(stderr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    std::fprintf(stderr, "minima serve: signal %d, shutting down\n", sig);
    srv.stop();
  });
  srv.run();
  // run() also returns if the listener fails; make the waiter thread exit either way.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}

}  // namespace minima::cli
