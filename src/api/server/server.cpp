// Routes other than generation, auth, and the server's lifecycle.
#include "api/server/server.hpp"

#include <httplib.h>

#include <chrono>
#include <cstdio>

#include "api/server/api_error.hpp"
#include "api/server/http_util.hpp"
#include "api/server/openai_request.hpp"
#include "core/error.hpp"

namespace minima::server {

void send_json(httplib::Response& res, int status, const nlohmann::json& j) {
  res.status = status;
  res.set_content(dump_json(j), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
  send_json(res, e.status, e.to_json());
  if (e.status == 429 || e.status == 503) res.set_header("Retry-After", "1");
}

Server::Server(ServerOptions opt)
    : opt_(std::move(opt)), http_(std::make_unique<httplib::Server>()) {
  const int threads = opt_.http_threads;
  http_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  http_->set_payload_max_length(opt_.max_body_bytes);
  http_->set_read_timeout(30, 0);
  http_->set_write_timeout(30, 0);
  routes();
}

Server::~Server() {
  stop();
}

void Server::attach(const Model& model, const Tokenizer& tok, Engine& engine, ChatTemplate tmpl,
                    std::string_view template_source) {
  backend_ = std::make_unique<Backend>(
      Backend{&model, &tok, &engine, std::move(tmpl), tool_format_of(template_source)});
  ready_.store(backend_.get(), std::memory_order_release);
}

const Server::Backend* Server::ready(httplib::Response& res) const {
  const Backend* b = ready_.load(std::memory_order_acquire);
  if (!b)
    send_error(res, ApiError(503, "server_error", "the model is still loading; retry shortly",
                             std::nullopt, "model_loading"));
  return b;
}

int Server::bind() {
  port_ = opt_.port == 0 ? http_->bind_to_any_port(opt_.host)
                         : (http_->bind_to_port(opt_.host, opt_.port) ? opt_.port : -1);
  if (port_ < 0)
    fail("cannot listen on ", opt_.host, ":", opt_.port,
         " (address in use, or not a local address?)");
  return port_;
}

void Server::run() {
  http_->listen_after_bind();
}
void Server::stop() {
  if (http_) http_->stop();
}

bool Server::authorized(const httplib::Request& req, httplib::Response& res, std::string& tenant) {
  if (opt_.api_keys.empty()) {
    tenant = "";
    return true;
  }
  const std::string h = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (h.rfind(prefix, 0) == 0) {
    const std::string key = h.substr(prefix.size());
    for (const auto& k : opt_.api_keys) {
      if (k.size() == key.size()) {
        unsigned char diff = 0;  // constant-time comparison
        for (size_t i = 0; i < k.size(); ++i) diff |= static_cast<unsigned char>(k[i] ^ key[i]);
        if (diff == 0) {
          tenant = key;
          return true;
        }
      }
    }
  }
  send_error(
      res,
      ApiError(401, "invalid_request_error",
               h.empty() ? "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'."
                         : "Incorrect API key provided.",
               std::nullopt, "invalid_api_key"));
  return false;
}

void Server::routes() {
  auto& h = *http_;
  auto log = [this](const httplib::Request& req, const httplib::Response& res, double ms) {
    std::fprintf(stderr, "%s %s %d %.1fms\n", req.method.c_str(), req.path.c_str(), res.status, ms);
  };
  h.set_logger([this, log](const httplib::Request& req, const httplib::Response& res) {
    // Generation routes log their own line (with token counts); everything else is logged here.
    if (req.path != "/v1/chat/completions" && req.path != "/v1/completions") {
      metrics_.request(req.path.rfind("/v1/models/", 0) == 0 ? "/v1/models/{id}" : req.path,
                       res.status);
      log(req, res, 0);
    }
  });
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                             std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const std::exception& e) {
      send_error(res, ApiError(500, "server_error", std::string("internal error: ") + e.what()));
    }
  });
  h.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      send_error(res, ApiError(413, "invalid_request_error",
                               "the request body is larger than the server's limit"));
    } else if (res.status == 404) {
      send_error(res, ApiError(404, "invalid_request_error",
                               "unknown route " + req.method + " " + req.path));
    } else if (res.status >= 400) {
      send_error(res, ApiError(res.status, "invalid_request_error",
                               "request failed with status " + std::to_string(res.status)));
    }
  });

  h.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const Backend* b = ready_.load(std::memory_order_acquire);
    if (!b) {
      send_json(res, 503, {{"status", "loading"}});
      res.set_header("Retry-After", "1");
      return;
    }
    const auto s = b->engine->stats();
    send_json(res, 200,
              {{"status", "ok"},
               {"model", opt_.model_id},
               {"queue_depth", s.queue_depth},
               {"running", s.running}});
  });
  h.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const Backend* b = ready_.load(std::memory_order_acquire);
    res.set_content(metrics_.render(b ? b->engine->stats() : EngineStats{}),
                    "text/plain; version=0.0.4");
  });

  const auto model_obj = [this] {
    return nlohmann::json{
        {"id", opt_.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "minima"}};
  };
  h.Get("/v1/models", [this, model_obj](const httplib::Request& req, httplib::Response& res) {
    std::string tenant;
    if (!authorized(req, res, tenant)) return;
    send_json(res, 200, {{"object", "list"}, {"data", nlohmann::json::array({model_obj()})}});
  });
  h.Get(
      R"(/v1/models/(.+))", [this, model_obj](const httplib::Request& req, httplib::Response& res) {
        std::string tenant;
        if (!authorized(req, res, tenant)) return;
        if (req.matches[1] != opt_.model_id) {
          send_error(res, ApiError(404, "invalid_request_error",
                                   "The model '" + std::string(req.matches[1]) + "' does not exist",
                                   "model", "model_not_found"));
          return;
        }
        send_json(res, 200, model_obj());
      });

  h.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    if (const Backend* b = ready(res)) handle_generate(req, res, true, *b);
  });
  h.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    if (const Backend* b = ready(res)) handle_generate(req, res, false, *b);
  });

  h.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    const Backend* b = ready(res);
    if (!b) return;
    std::string tenant;
    if (!authorized(req, res, tenant)) return;
    const nlohmann::json body = parse_json_body(req.body);
    if (!body.is_object() || !body.contains("content") || !body["content"].is_string())
      throw bad_param("content", "'content' must be a string");
    const bool add_special = body.value("add_special", false),
               parse_special = body.value("parse_special", true);
    send_json(res, 200,
              {{"tokens",
                b->tok->encode(body["content"].get<std::string>(), add_special, parse_special)}});
  });
  h.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    const Backend* b = ready(res);
    if (!b) return;
    std::string tenant;
    if (!authorized(req, res, tenant)) return;
    const nlohmann::json body = parse_json_body(req.body);
    if (!body.is_object() || !body.contains("tokens") || !body["tokens"].is_array())
      throw bad_param("tokens", "'tokens' must be an array of token ids");
    std::vector<int32_t> ids;
    for (const auto& t : body["tokens"]) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= b->tok->n_vocab())
        throw bad_param("tokens", "token ids must be integers in [0, " +
                                      std::to_string(b->tok->n_vocab()) + ")");
      ids.push_back(t.get<int32_t>());
    }
    send_json(res, 200, {{"content", b->tok->decode(ids, false)}});
  });
}

}  // namespace minima::server
