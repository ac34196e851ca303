// minima serve: the OpenAI-compatible server. Loads the model, starts the engine thread, and
// serves HTTP until SIGINT/SIGTERM.
#include <signal.h>

#include <atomic>
#include <chrono>
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
  p.opt("--model", "-m", "FILE", "GGUF model (default: the built-in minima-mini)")
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
  add_load_options(p);
  if (!p.parse(argc, argv, first)) return 0;

  // Signals go to a dedicated thread (blocked here, before any other thread exists).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  const std::string path = model_path(p);
  const FileLoad load = file_load(p);
  if (!std::filesystem::exists(path)) fail("minima serve: model file ", path, " not found");
  Compute c = make_compute(p);

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
  const int64_t ctx_opt = p.get_int("--ctx", 0, 0, 1 << 20);
  const int64_t kv_blocks = p.get_int("--kv-blocks", 0, 0, 1 << 24);
  const int64_t parallel = p.get_int("--parallel-limit", 64, 1, 4096);
  const int64_t max_queue = p.get_int("--max-queue", 256, 1, 1 << 20);
  const int64_t batch = p.get_int("--batch", 256, 1, 1 << 16);
  const std::string tmpl_opt = p.get("--chat-template").value_or("");
  std::string tmpl_source;
  if (!tmpl_opt.empty())
    tmpl_source =
        builtin_template(tmpl_opt) ? std::string(*builtin_template(tmpl_opt)) : read_file(tmpl_opt);

  // Listen first: while the model loads, /health says "loading" and the API answers 503.
  server::Server srv(so);
  const int port = srv.bind();
  std::fprintf(stderr, "minima serve: loading %s, listening on http://%s:%d\n", path.c_str(),
               so.host.c_str(), port);
  std::atomic<bool> http_done{false}, internal_stop{false};
  std::thread http([&] {
    srv.run();
    http_done = true;
  });
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (!internal_stop) std::fprintf(stderr, "minima serve: signal %d, shutting down\n", sig);
    srv.stop();
  });
  auto finish = [&] {
    // stop() only takes once the listener runs; repeat until it has ended.
    while (!http_done) {
      srv.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    internal_stop = true;
    pthread_kill(waiter.native_handle(), SIGTERM);  // wake the waiter if no signal came
    waiter.join();
    http.join();
  };

  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tok;
  std::unique_ptr<Engine> engine;
  try {
    model = std::make_unique<Model>(Model::load(path, load));
    tok = std::make_unique<Tokenizer>(Tokenizer::from_gguf(model->file()));
    if (tmpl_source.empty()) {
      if (auto t = model->file().get_string("tokenizer.chat_template")) {
        tmpl_source = *t;
      } else {
        tmpl_source = std::string(*builtin_template("chatml"));
        std::fprintf(stderr,
                     "note: the model has no chat template; using the built-in chatml template\n");
      }
    }
    ChatTemplate tmpl = ChatTemplate::parse(tmpl_source);
    EngineOptions eo;
    eo.n_ctx = ctx_opt > 0 ? ctx_opt : std::min<int64_t>(model->hparams().n_ctx_train, 4096);
    eo.kv_blocks = kv_blocks;
    eo.max_running = parallel;
    eo.max_queue = max_queue;
    eo.max_batch = batch;
    eo.prefill_chunk = batch;
    engine = std::make_unique<Engine>(*model, *tok, *c.kernels, *c.pool, eo);
    srv.attach(*model, *tok, *engine, std::move(tmpl), tmpl_source);
    std::fprintf(
        stderr,
        "minima serve: model '%s' (%s), context %lld, %lld KV blocks, ready on http://%s:%d\n",
        so.model_id.c_str(), std::string(model->arch().name).c_str(),
        static_cast<long long>(eo.n_ctx), static_cast<long long>(engine->options().kv_blocks),
        so.host.c_str(), port);
  } catch (...) {
    finish();
    throw;
  }
  // Serve until a signal stops the listener.
  http.join();
  http_done = true;
  internal_stop = true;
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}

}  // namespace minima::cli
