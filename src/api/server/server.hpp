// `minima serve`: the OpenAI-compatible HTTP front end. HTTP threads parse and validate requests,
// render the chat template, tokenize, and hand a GenRequest to the Engine (which owns the model);
// they then stream the engine's events back as JSON or server-sent events. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "api/server/metrics.hpp"
#include "api/server/tools.hpp"
#include "runtime/chat/template.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/grammar/grammar_cache.hpp"

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace minima::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (see Server::port())
  std::vector<std::string> api_keys;  // empty: no authentication
  std::string model_id;               // the name clients use in "model"
  size_t max_body_bytes = 8u << 20;   // larger bodies: 413
  int http_threads = 128;             // concurrent connections being served
  bool log_content = false;           // log prompts and outputs (off: only sizes and timings)
  std::string chat_template;          // Jinja source used for chat requests
};

class Server {
 public:
  // Routes are live from bind() on; until attach() every route but /health answers 503 (the
  // model is still loading) and /health says "loading".
  explicit Server(ServerOptions opt);
  ~Server();
  // template_source: the chat template's text (tells the model's tool-call syntax).
  void attach(const Model& model, const Tokenizer& tok, Engine& engine, ChatTemplate tmpl,
              std::string_view template_source);

  // Binds the socket (Error when the address is taken); returns the port.
  int bind();
  // Serves until stop() is called from another thread (or a signal handler's thread).
  void run();
  void stop();
  int port() const { return port_; }

 private:
  struct Backend {
    const Model* model;
    const Tokenizer* tok;
    Engine* engine;
    ChatTemplate tmpl;
    ToolFormat tool_format;
  };
  // The backend once attached, else null (after answering 503 on res).
  const Backend* ready(httplib::Response& res) const;
  void routes();
  bool authorized(const httplib::Request& req, httplib::Response& res, std::string& tenant);
  void handle_generate(const httplib::Request& req, httplib::Response& res, bool chat,
                       const Backend& b);

  ServerOptions opt_;
  std::unique_ptr<Backend> backend_;
  std::atomic<const Backend*> ready_{nullptr};
  Metrics metrics_;
  grammar::GrammarCache grammars_;  // compiled response formats / tool grammars, by text
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace minima::server
