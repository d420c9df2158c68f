#pragma once
// Structured logging: one line per event, `key=value`, to stderr (journald picks it up).
// Each component holds its own Logger; request-path lines carry a request or connection id.

#include <concepts>
#include <initializer_list>
#include <string>
#include <string_view>

namespace duet {

enum class LogLevel { debug, info, warn, error };

// One `key=value` pair; numbers and strings convert implicitly so call sites stay short.
struct Field {
  std::string_view key;
  std::string value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <std::integral T>
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
};

class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}

  void debug(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(LogLevel::debug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(LogLevel::info, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(LogLevel::warn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(LogLevel::error, event, fields);
  }

  // Lines below this level are dropped; set once at start-up from a flag.
  static void set_min_level(LogLevel level);
  // Whether a line at `level` is written: lets a hot path skip formatting its fields.
  static bool enabled(LogLevel level);
  static LogLevel parse_level(std::string_view text);

 private:
  void write(LogLevel level, std::string_view event, std::initializer_list<Field> fields) const;

  std::string component_;
};

}  // namespace duet
