#pragma once
// A control-plane error that carries its HTTP status and the field or header it is about.
// Handlers throw it; the HTTP server turns it into a JSON reply in one place.

#include <stdexcept>
#include <string>

namespace duet {

class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message, std::string param = {})
      : std::runtime_error(message), status_(status), param_(std::move(param)) {}

  int status() const { return status_; }
  // The field path or header the error names; empty when there is none.
  const std::string& param() const { return param_; }

 private:
  int status_;
  std::string param_;
};

}  // namespace duet
