// OpenAI-shaped errors: {"error": {"message", "type", "param", "code"}} with the HTTP status.
// Thrown inside request handling and turned into a response at the route's edge.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace minima::server {

struct ApiError : std::runtime_error {
  int status;
  std::string type;
  std::optional<std::string> param;
  std::optional<std::string> code;

  ApiError(int status_, std::string type_, std::string message,
           std::optional<std::string> param_ = std::nullopt,
           std::optional<std::string> code_ = std::nullopt)
      : std::runtime_error(std::move(message)),
        status(status_),
        type(std::move(type_)),
        param(std::move(param_)),
        code(std::move(code_)) {}

  nlohmann::json to_json() const {
    return {{"error",
             {{"message", what()},
              {"type", type},
              {"param", param ? nlohmann::json(*param) : nlohmann::json(nullptr)},
              {"code", code ? nlohmann::json(*code) : nlohmann::json(nullptr)}}}};
  }
};

// 400 invalid_request_error naming the parameter.
inline ApiError bad_param(const std::string& param, const std::string& message,
                          std::optional<std::string> code = std::nullopt) {
  return ApiError(400, "invalid_request_error", message, param, std::move(code));
}

}  // namespace minima::server
