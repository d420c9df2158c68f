#pragma once
// kubectl-style tables: upper-case headers, columns padded to the widest cell, 3 spaces apart.

#include <ostream>
#include <string>
#include <vector>

namespace duet::ctl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : rows_{std::move(headers)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace duet::ctl
