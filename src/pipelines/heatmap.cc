#include "bertkit/pipelines/heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <utility>
#include <vector>

#include "bertkit/core/error.h"

namespace bertkit::pipelines {

void heat_color(float v, unsigned char rgb[3]) {
  if (!(v >= 0)) v = 0;  // NaN too
  v = std::min(v, 1.0f);
  // white (255,255,255) -> (8,48,107), the end of matplotlib's "Blues"
  const float lo[3] = {255, 255, 255}, hi[3] = {8, 48, 107};
  for (int i = 0; i < 3; ++i) rgb[i] = static_cast<unsigned char>(std::lround(lo[i] + (hi[i] - lo[i]) * v));
}

static std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o.push_back(c);
    }
  }
  return o;
}

std::string heatmap_svg(const Heatmap& h, int cell) {
  const std::size_t rows = h.values.size(), cols = rows ? h.values[0].size() : 0;
  if (rows == 0 || cols == 0) throw InputError("heatmap: nothing to draw (empty matrix)");
  std::size_t label_len = 0;
  for (auto& l : h.row_labels) label_len = std::max(label_len, l.size());
  for (auto& l : h.col_labels) label_len = std::max(label_len, l.size());
  const int margin = static_cast<int>(std::min<std::size_t>(label_len, 24) * 7 + 10);
  const int top = margin + 24;
  const int W = margin + static_cast<int>(cols) * cell + 10, H = top + static_cast<int>(rows) * cell + 10;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"monospace\" font-size=\"11\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"4\" y=\"14\" font-size=\"13\">" << xml_escape(h.title) << "</text>\n";
  for (std::size_t c = 0; c < cols && c < h.col_labels.size(); ++c) {
    int x = margin + static_cast<int>(c) * cell + cell / 2 + 4, y = top - 4;
    s << "<text x=\"" << x << "\" y=\"" << y << "\" transform=\"rotate(-90 " << x << " " << y << ")\">"
      << xml_escape(h.col_labels[c]) << "</text>\n";
  }
  for (std::size_t r = 0; r < rows; ++r) {
    if (r < h.row_labels.size())
      s << "<text x=\"" << margin - 4 << "\" y=\"" << top + static_cast<int>(r) * cell + cell / 2 + 4
        << "\" text-anchor=\"end\">" << xml_escape(h.row_labels[r]) << "</text>\n";
    for (std::size_t c = 0; c < cols; ++c) {
      unsigned char rgb[3];
      heat_color(h.values[r][c], rgb);
      s << "<rect x=\"" << margin + static_cast<int>(c) * cell << "\" y=\"" << top + static_cast<int>(r) * cell
        << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\"rgb(" << int(rgb[0]) << "," << int(rgb[1]) << ","
        << int(rgb[2]) << ")\"><title>" << xml_escape(r < h.row_labels.size() ? h.row_labels[r] : "") << " -> "
        << xml_escape(c < h.col_labels.size() ? h.col_labels[c] : "") << ": " << h.values[r][c] << "</title></rect>\n";
    }
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace bertkit::pipelines
