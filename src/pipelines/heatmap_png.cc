// The attention heatmap as a PNG, drawn with cairo (BERTKIT_WITH_CAIRO=ON; without
// it heatmap_png_unavailable.cc says how to get one).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <cairo/cairo.h>  // its own folder: no include path needed

#include "bertkit/core/error.h"
#include "bertkit/pipelines/heatmap.h"

namespace bertkit::pipelines {

// Cairo draws the PNG: cells, the token labels (rows at the left, columns
// rotated above), a frame, the title and a colour scale, like the SVG.
namespace {

constexpr double kFontSize = 11, kTitleSize = 13, kPad = 6, kBarWidth = 14;

struct CairoImage {
  cairo_surface_t* surface;
  cairo_t* cr;
  CairoImage(int width, int height)
      : surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)), cr(cairo_create(surface)) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, kFontSize);
  }
  ~CairoImage() {
    cairo_destroy(cr);
    cairo_surface_destroy(surface);
  }
  CairoImage(const CairoImage&) = delete;
  CairoImage& operator=(const CairoImage&) = delete;
};

double text_width(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

double widest(cairo_t* cr, const std::vector<std::string>& labels) {
  double w = 0;
  for (const auto& l : labels) w = std::max(w, text_width(cr, l));
  return w;
}

void set_heat_source(cairo_t* cr, float v) {
  unsigned char rgb[3];
  heat_color(v, rgb);
  cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

void frame(cairo_t* cr, double x, double y, double w, double h) {
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, x - 0.5, y - 0.5, w + 1, h + 1);
  cairo_stroke(cr);
}

// The scale beside the matrix: 1 at the top, 0 at the bottom, ticks 0 / 0.5 / 1.
void colour_scale(cairo_t* cr, double x, double top, double height) {
  const int steps = std::max(2, static_cast<int>(height));
  for (int i = 0; i < steps; ++i) {
    set_heat_source(cr, 1.0f - static_cast<float>(i) / static_cast<float>(steps - 1));
    cairo_rectangle(cr, x, top + height * i / steps, kBarWidth, height / steps + 1);
    cairo_fill(cr);
  }
  frame(cr, x, top, kBarWidth, height);
  for (const auto& [v, label] : {std::pair<double, const char*>{1, "1"}, {0.5, "0.5"}, {0, "0"}}) {
    const double y = top + (1 - v) * height;
    cairo_move_to(cr, x + kBarWidth, y + 0.5);
    cairo_line_to(cr, x + kBarWidth + 3, y + 0.5);
    cairo_stroke(cr);
    cairo_move_to(cr, x + kBarWidth + 5, y + kFontSize / 3);
    cairo_show_text(cr, label);
  }
}

cairo_status_t append_png_bytes(void* out, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(out)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

std::string heatmap_png(const Heatmap& h, int cell) {
  const std::size_t rows = h.values.size(), cols = rows ? h.values[0].size() : 0;
  if (rows == 0 || cols == 0) throw InputError("heatmap: nothing to draw (empty matrix)");
  // Measure the labels, then lay out: title, column labels, matrix, scale.
  CairoImage probe(1, 1);
  const double title_h = h.title.empty() ? 0 : kTitleSize + kPad;
  const double left = kPad + widest(probe.cr, h.row_labels) + kPad;
  const double top = kPad + title_h + widest(probe.cr, h.col_labels) + kPad;
  const double grid_w = static_cast<double>(cols) * cell, grid_h = static_cast<double>(rows) * cell;
  const double scale_h = std::max(grid_h, 4 * kFontSize), scale_x = left + grid_w + 2 * kPad;
  const int width = static_cast<int>(std::ceil(scale_x + kBarWidth + 5 + text_width(probe.cr, "0.5") + kPad));
  const int height = static_cast<int>(std::ceil(top + std::max(grid_h, scale_h) + kPad));
  CairoImage img(width, height);
  cairo_t* cr = img.cr;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  if (!h.title.empty()) {
    cairo_set_font_size(cr, kTitleSize);
    cairo_move_to(cr, kPad, kPad + kTitleSize);
    cairo_show_text(cr, h.title.c_str());
    cairo_set_font_size(cr, kFontSize);
  }
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      set_heat_source(cr, h.values[r][c]);
      cairo_rectangle(cr, left + static_cast<double>(c) * cell, top + static_cast<double>(r) * cell, cell, cell);
      cairo_fill(cr);
    }
  frame(cr, left, top, grid_w, grid_h);
  for (std::size_t r = 0; r < rows && r < h.row_labels.size(); ++r) {
    const double y = top + (static_cast<double>(r) + 0.5) * cell + kFontSize / 3;
    cairo_move_to(cr, left - kPad - text_width(cr, h.row_labels[r]), y);
    cairo_show_text(cr, h.row_labels[r].c_str());
  }
  for (std::size_t c = 0; c < cols && c < h.col_labels.size(); ++c) {
    cairo_save(cr);
    cairo_translate(cr, left + (static_cast<double>(c) + 0.5) * cell + kFontSize / 3, top - kPad);
    cairo_rotate(cr, -M_PI / 2);
    cairo_move_to(cr, 0, 0);
    cairo_show_text(cr, h.col_labels[c].c_str());
    cairo_restore(cr);
  }
  colour_scale(cr, scale_x, top, scale_h);
  cairo_surface_flush(img.surface);
  std::string png;
  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS ||
      cairo_surface_write_to_png_stream(img.surface, append_png_bytes, &png) != CAIRO_STATUS_SUCCESS)
    throw RuntimeError(std::string("heatmap: cairo could not draw the PNG (") + cairo_status_to_string(cairo_status(cr)) + ")");
  return png;
}

}  // namespace bertkit::pipelines
