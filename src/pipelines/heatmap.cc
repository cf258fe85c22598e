#include "bertkit/pipelines/heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>

#include <zlib.h>

#include "bertkit/core/error.h"

namespace bertkit::pipelines {

void heat_color(float v, unsigned char rgb[3]) {
  if (!(v >= 0)) v = 0;  // NaN too
  v = std::min(v, 1.0f);
  // white (255,255,255) -> (8,48,107), the end of matplotlib's "Blues"
  const float lo[3] = {255, 255, 255}, hi[3] = {8, 48, 107};
  for (int i = 0; i < 3; ++i) rgb[i] = static_cast<unsigned char>(std::lround(lo[i] + (hi[i] - lo[i]) * v));
}

static void put_u32(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v >> 24));
  s.push_back(static_cast<char>(v >> 16));
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v));
}

static void chunk(std::string& png, const char* type, const std::string& data) {
  put_u32(png, static_cast<uint32_t>(data.size()));
  std::string td = std::string(type, 4) + data;
  png += td;
  put_u32(png, static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(td.data()), static_cast<uInt>(td.size()))));
}

std::string heatmap_png(const Heatmap& h, int cell) {
  const std::size_t rows = h.values.size(), cols = rows ? h.values[0].size() : 0;
  if (rows == 0 || cols == 0) throw InputError("heatmap: nothing to draw (empty matrix)");
  const uint32_t W = static_cast<uint32_t>(cols * cell), H = static_cast<uint32_t>(rows * cell);
  std::string raw;
  raw.reserve((W * 3 + 1) * H);
  for (uint32_t y = 0; y < H; ++y) {
    raw.push_back(0);  // filter: none
    const auto& row = h.values[y / cell];
    for (uint32_t x = 0; x < W; ++x) {
      unsigned char rgb[3];
      heat_color(row[x / cell], rgb);
      raw.append(reinterpret_cast<char*>(rgb), 3);
    }
  }
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zlen, '\0');
  if (compress2(reinterpret_cast<Bytef*>(&z[0]), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 9) != Z_OK)
    throw RuntimeError("heatmap: zlib compression failed");
  z.resize(zlen);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put_u32(ihdr, W);
  put_u32(ihdr, H);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
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
