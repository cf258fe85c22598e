// The attention heatmap PNG, decoded by cairo's own PNG reader (built only
// with BERTKIT_WITH_CAIRO=ON, like the PNG writer).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <cairo/cairo.h>

#include "bertkit/pipelines/heatmap.h"

namespace P = bertkit::pipelines;

// The PNG, read back with cairo: labels, frame and a colour scale around the cells.
namespace {
struct PngPixels {
  int width = 0, height = 0;
  std::vector<std::array<int, 3>> rgb;  // row-major
};

PngPixels decode_png(const std::string& png) {
  struct Reader {
    const std::string* s;
    std::size_t pos = 0;
  } reader{&png};
  auto read = [](void* closure, unsigned char* data, unsigned int length) {
    auto* r = static_cast<Reader*>(closure);
    if (r->pos + length > r->s->size()) return CAIRO_STATUS_READ_ERROR;
    std::memcpy(data, r->s->data() + r->pos, length);
    r->pos += length;
    return CAIRO_STATUS_SUCCESS;
  };
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read, &reader);
  PngPixels out;
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    out.width = cairo_image_surface_get_width(s);
    out.height = cairo_image_surface_get_height(s);
    const unsigned char* data = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) {
        uint32_t px;
        std::memcpy(&px, data + y * stride + 4 * x, 4);
        out.rgb.push_back({static_cast<int>((px >> 16) & 255), static_cast<int>((px >> 8) & 255), static_cast<int>(px & 255)});
      }
  }
  cairo_surface_destroy(s);
  return out;
}

// Pixels of (nearly) grey ink: text and frame; the cells are white-to-blue.
int ink_pixels(const PngPixels& p) {
  int n = 0;
  for (const auto& c : p.rgb)
    n += c[0] < 160 && std::abs(c[0] - c[1]) < 24 && std::abs(c[1] - c[2]) < 24;
  return n;
}

// Pixels within `tolerance` (per channel) of the heat colour of `v`.
int pixels_of(const PngPixels& p, float v, int tolerance = 0) {
  unsigned char want[3];
  P::heat_color(v, want);
  int n = 0;
  for (const auto& c : p.rgb)
    n += std::abs(c[0] - want[0]) <= tolerance && std::abs(c[1] - want[1]) <= tolerance &&
         std::abs(c[2] - want[2]) <= tolerance;
  return n;
}

}  // namespace

TEST(Pipelines, HeatmapPngHasLabelsFrameAndColourScale) {
  P::Heatmap h;
  h.values = {{0.f, 1.f}, {1.f, 0.f}};  // no 0.5 among the values
  const PngPixels bare = decode_png(P::heatmap_png(h, 16));
  ASSERT_GT(bare.width, 2 * 16);  // the scale beside the cells
  ASSERT_GE(bare.height, 2 * 16);
  // Cells: two of 16x16 px each at 1 (dark blue); the scale adds the middle
  // blues (a gradient, so near 0.5's colour; at least one row of the bar).
  EXPECT_GE(pixels_of(bare, 1.f), 2 * 16 * 16);
  EXPECT_GE(pixels_of(bare, 0.5f, 8), 10);
  h.row_labels = {"[CLS]", "hello"};
  h.col_labels = {"[CLS]", "hello"};
  h.title = "layer 0, head 0";
  const PngPixels labelled = decode_png(P::heatmap_png(h, 16));
  EXPECT_GT(labelled.width, bare.width + 20);    // room for the row labels
  EXPECT_GT(labelled.height, bare.height + 20);  // column labels and title
  // The labels and title are drawn: far more ink than the bare frame and ticks.
  EXPECT_GT(ink_pixels(labelled), ink_pixels(bare) + 100);
}
