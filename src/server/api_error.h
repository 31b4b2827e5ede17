// Errors a request can get, in OpenAI's shape (vLLM's ErrorInfo):
//   {"error": {"message": "...", "type": "BadRequestError", "param": "messages", "code": 400}}
#pragma once
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace mixq::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = "")
      : std::runtime_error(message), status_(status), param_(std::move(param)) {}
  int status() const { return status_; }
  const std::string& param() const { return param_; }

 private:
  int status_;
  std::string param_;
};

// The OpenAI error type for an HTTP status (vLLM's names).
inline const char* error_type(int status) {
  switch (status) {
    case 400: return "BadRequestError";
    case 401: return "AuthenticationError";
    case 404: return "NotFoundError";
    case 413: return "RequestEntityTooLarge";
    case 429: return "RateLimitError";
    case 503: return "ServiceUnavailableError";
    default: return status >= 500 ? "InternalServerError" : "BadRequestError";
  }
}

inline nlohmann::ordered_json error_json(int status, const std::string& message, const std::string& param = "") {
  nlohmann::ordered_json e = {{"message", message}, {"type", error_type(status)}};
  e["param"] = param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(param);
  e["code"] = status;
  return {{"error", e}};
}

// Throws ApiError(400) naming the field.
[[noreturn]] inline void bad_request(const std::string& param, const std::string& message) {
  throw ApiError(400, message, param);
}

}  // namespace mixq::server
