#pragma once
// A small SVG line plot, like d2l's Animator: several named series over a shared x axis,
// with axes, ticks, grid and a legend. Written atomically (temporary file + rename).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace convkit::util {

/// Line plots of named series, written as a self-contained SVG file (the training curves).
class LinePlot {
 public:
  /// A plot with these axis labels.
  LinePlot(std::string xlabel, std::string ylabel = "") : xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)) {}

  /// Adds (x, y) to the series `name` (created on first use, in a new colour).
  void add(const std::string& name, double x, double y) {
    for (auto& s : series_)
      if (s.name == name) {
        s.points.emplace_back(x, y);
        return;
      }
    series_.push_back({name, {{x, y}}});
  }
  /// Fixes the x-axis range (otherwise it fits the data).
  void set_xlim(double lo, double hi) {
    xlim_ = {lo, hi};
    has_xlim_ = true;
  }

  /// The plot as an SVG document.
  std::string svg() const {
    const double W = 640, H = 420, L = 60, R = 20, T = 20, B = 50;
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    for (const auto& s : series_)
      for (auto [x, y] : s.points) {
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
        y0 = std::min(y0, y);
        y1 = std::max(y1, y);
      }
    if (has_xlim_) {
      x0 = xlim_.first;
      x1 = xlim_.second;
    }
    if (!(x1 > x0)) {
      x0 -= 1;
      x1 += 1;
    }
    if (!(y1 > y0)) {
      y0 -= 1;
      y1 += 1;
    }
    y0 = std::min(y0, 0.0);
    const double pad = (y1 - y0) * 0.05;
    y1 += pad;
    auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    auto py = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); };
    std::string out;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
                  "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  W, H);
    out += buf;
    for (int i = 0; i <= 5; ++i) {  // grid and tick labels
      const double fx = x0 + (x1 - x0) * i / 5, fy = y0 + (y1 - y0) * i / 5;
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>\n"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                    px(fx), T, px(fx), H - B, px(fx), H - B + 16, fx, L, py(fy), W - R, py(fy), L - 6, py(fy) + 4, fy);
      out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                  L, T, W - L - R, H - T - B, (L + W - R) / 2, H - 12, xlabel_.c_str());
    out += buf;
    if (!ylabel_.empty()) {
      std::snprintf(buf, sizeof buf,
                    "<text transform=\"translate(14,%.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
                    (T + H - B) / 2, ylabel_.c_str());
      out += buf;
    }
    static const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
    static const char* dashes[] = {"", "8,4", "2,3", "6,2,2,2", "", ""};
    for (size_t k = 0; k < series_.size(); ++k) {
      const auto& s = series_[k];
      std::string pts;
      for (auto [x, y] : s.points) {
        std::snprintf(buf, sizeof buf, "%.1f,%.1f ", px(x), py(y));
        pts += buf;
      }
      std::snprintf(buf, sizeof buf,
                    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\" points=\"",
                    colours[k % 6], dashes[k % 6]);
      out += buf + pts + "\"/>\n";
      for (auto [x, y] : s.points) {
        if (s.points.size() > 40) break;  // markers only on short series
        std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", px(x), py(y),
                      colours[k % 6]);
        out += buf;
      }
      const double ly = T + 16 + 18 * static_cast<double>(k);
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
                    "stroke-dasharray=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                    W - R - 130, ly, W - R - 105, ly, colours[k % 6], dashes[k % 6], W - R - 98, ly + 4,
                    s.name.c_str());
      out += buf;
    }
    return out + "</svg>\n";
  }

  /// Writes the SVG to `path` (atomically).
  void save_svg(const std::string& path) const {
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    CK_CHECK(f != nullptr, "LinePlot: cannot create '", tmp, "'");
    const std::string text = svg();
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::remove(tmp.c_str());
      throw Error(convkit::detail::cat("LinePlot: writing '", path, "' failed"));
    }
  }

 private:
  struct Series {
    std::string name;
    std::vector<std::pair<double, double>> points;
  };
  std::string xlabel_, ylabel_;
  std::vector<Series> series_;
  std::pair<double, double> xlim_{0, 1};
  bool has_xlim_ = false;
};

}  // namespace convkit::util
