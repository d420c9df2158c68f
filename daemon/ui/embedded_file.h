#pragma once
// The dashboard's files as the build embedded them (cmake/embed_files.cmake generates the
// definition), so that duetd and duetctl serve them without reading anything at run time.

#include <string_view>
#include <vector>

namespace duet::ui {

struct EmbeddedFile {
  std::string_view name;   // "index.html", "chart.min.js"
  std::string_view bytes;
};

const std::vector<EmbeddedFile>& embedded_files();

}  // namespace duet::ui
