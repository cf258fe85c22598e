// Attention heatmaps: a [rows, cols] matrix of values in [0, 1] drawn as a
// PNG (cairo) or as an SVG, both with token labels.
#pragma once

#include <string>
#include <vector>

namespace bertkit::pipelines {

struct Heatmap {
  std::vector<std::vector<float>> values;  // [rows][cols], 0..1 (clamped)
  std::vector<std::string> row_labels, col_labels;
  std::string title;
};

// RGB of a value on a white -> dark-blue scale.
void heat_color(float v, unsigned char rgb[3]);
// PNG bytes: `cell` pixels per value, row/column labels, title, colour scale.
std::string heatmap_png(const Heatmap& h, int cell = 16);
// SVG text with row/column labels and a title.
std::string heatmap_svg(const Heatmap& h, int cell = 24);

}  // namespace bertkit::pipelines
