// Small helpers shared by the route files.
#pragma once

#include <nlohmann/json.hpp>

#include "api/server/api_error.hpp"

namespace httplib {
class Response;
}

namespace minima::server {

// Serializes with invalid UTF-8 replaced (token pieces can be partial characters).
inline std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
void send_json(httplib::Response& res, int status, const nlohmann::json& j);
void send_error(httplib::Response& res, const ApiError& e);

}  // namespace minima::server
