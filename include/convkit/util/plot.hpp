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

/// Which y axis a series is drawn against: the left one, or the right one (e.g. loss on the
/// left, accuracy in [0, 1] on the right, as two scales on one plot).
enum class Axis { Left, Right };

namespace detail {
/// Tick positions at a "nice" step (1, 2 or 5 times a power of ten) covering [lo, hi], about
/// `target` of them; lo and hi are widened to the outer ticks.
inline std::vector<double> nice_ticks(double& lo, double& hi, int target = 5) {
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> ticks;
  for (double t = lo; t <= hi + step * 1e-6; t += step) ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}
}  // namespace detail

/// Line plots of named series, written as a self-contained SVG file (the training curves):
/// a title, an x axis, a left y axis and optionally a right one with its own scale.
class LinePlot {
 public:
  /// A plot with these axis labels (the left y axis's label is `ylabel`).
  LinePlot(std::string xlabel, std::string ylabel = "") : xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)) {}

  /// The title drawn above the plot.
  void set_title(std::string title) { title_ = std::move(title); }
  /// Gives the plot a right y axis labelled `label`, spanning [lo, hi] (e.g. accuracy, 0 to 1).
  void set_right_axis(std::string label, double lo, double hi) {
    right_label_ = std::move(label);
    right_ = {lo, hi};
    has_right_ = true;
  }

  /// Adds (x, y) to the series `name` (created on first use, in a new colour), drawn
  /// against `axis`.
  void add(const std::string& name, double x, double y, Axis axis = Axis::Left) {
    for (auto& s : series_)
      if (s.name == name) {
        s.points.emplace_back(x, y);
        return;
      }
    series_.push_back({name, axis, {{x, y}}});
  }
  /// Fixes the x-axis range (otherwise it fits the data).
  void set_xlim(double lo, double hi) {
    xlim_ = {lo, hi};
    has_xlim_ = true;
  }

  /// The plot as an SVG document.
  std::string svg() const {
    const double W = 680, H = 440, L = 70, R = has_right_ ? 70 : 20, T = title_.empty() ? 20 : 40, B = 50;
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    for (const auto& s : series_)
      for (auto [x, y] : s.points) {
        x0 = std::min(x0, x);
        x1 = std::max(x1, x);
        if (s.axis == Axis::Left && std::isfinite(y)) {
          y0 = std::min(y0, y);
          y1 = std::max(y1, y);
        }
      }
    if (has_xlim_) {
      x0 = xlim_.first;
      x1 = xlim_.second;
    }
    if (!(x1 > x0)) {
      x0 = (x0 < 1e300 ? x0 : 0) - 1;
      x1 = x0 + 2;
    }
    if (!(y1 > y0)) {
      y0 = (y0 < 1e300 ? y0 : 0) - 1;
      y1 = y0 + 2;
    }
    y0 = std::min(y0, 0.0);
    const std::vector<double> xt = detail::nice_ticks(x0, x1), yt = detail::nice_ticks(y0, y1);
    double r0 = right_.first, r1 = right_.second;
    const std::vector<double> rt = has_right_ ? detail::nice_ticks(r0, r1) : std::vector<double>();
    auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    auto py = [&](double y, Axis a) {
      const double lo = a == Axis::Left ? y0 : r0, hi = a == Axis::Left ? y1 : r1;
      return H - B - (y - lo) / (hi - lo) * (H - T - B);
    };
    std::string out;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
                  "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  W, H);
    out += buf;
    for (double fx : xt) {  // vertical grid and x tick labels
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                    px(fx), T, px(fx), H - B, px(fx), H - B + 16, fx);
      out += buf;
    }
    for (double fy : yt) {  // horizontal grid and left tick labels
      const double y = py(fy, Axis::Left);
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                    L, y, W - R, y, L - 6, y + 4, fy);
      out += buf;
    }
    for (double fr : rt) {  // right tick labels (the grid follows the left axis)
      std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\">%g</text>\n", W - R + 6,
                    py(fr, Axis::Right) + 4, fr);
      out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n", L, T,
                  W - L - R, H - T - B);
    out += buf;
    auto text = [&](double x, double y, const std::string& transform, const char* anchor, const std::string& t,
                    const char* extra = "") {
      out += "<text x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\"" +
             (transform.empty() ? "" : " transform=\"" + transform + "\"") + " text-anchor=\"" + anchor + "\"" + extra +
             ">" + escape(t) + "</text>\n";
    };
    text((L + W - R) / 2, H - 12, "", "middle", xlabel_);
    if (!title_.empty()) text((L + W - R) / 2, 24, "", "middle", title_, " font-size=\"15\" font-weight=\"bold\"");
    if (!ylabel_.empty()) {
      std::snprintf(buf, sizeof buf, "rotate(-90 16 %.1f)", (T + H - B) / 2);
      text(16, (T + H - B) / 2, buf, "middle", ylabel_);
    }
    if (has_right_ && !right_label_.empty()) {
      std::snprintf(buf, sizeof buf, "rotate(90 %.1f %.1f)", W - 14, (T + H - B) / 2);
      text(W - 14, (T + H - B) / 2, buf, "middle", right_label_);
    }
    static const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
    static const char* dashes[] = {"", "8,4", "2,3", "6,2,2,2", "", ""};
    for (size_t k = 0; k < series_.size(); ++k) {
      const auto& s = series_[k];
      std::string pts;
      for (auto [x, y] : s.points) {
        if (!std::isfinite(y)) continue;
        std::snprintf(buf, sizeof buf, "%.1f,%.1f ", px(x), py(y, s.axis));
        pts += buf;
      }
      std::snprintf(buf, sizeof buf,
                    "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"%s\" points=\"",
                    colours[k % 6], dashes[k % 6]);
      out += buf + pts + "\"/>\n";
      for (auto [x, y] : s.points) {
        if (s.points.size() > 40) break;  // markers only on short series
        if (!std::isfinite(y)) continue;
        std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", px(x),
                      py(y, s.axis), colours[k % 6]);
        out += buf;
      }
      const double ly = T + 16 + 18 * static_cast<double>(k);
      std::snprintf(buf, sizeof buf,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
                    "stroke-dasharray=\"%s\"/>\n",
                    W - R - 150, ly, W - R - 125, ly, colours[k % 6], dashes[k % 6]);
      out += buf;
      text(W - R - 118, ly + 4, "", "start",
           s.name + (has_right_ ? (s.axis == Axis::Left ? " (left)" : " (right)") : ""));
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
  static std::string escape(const std::string& t) {
    std::string out;
    for (char c : t) out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    return out;
  }
  struct Series {
    std::string name;
    Axis axis;
    std::vector<std::pair<double, double>> points;
  };
  std::string xlabel_, ylabel_, title_, right_label_;
  std::pair<double, double> right_{0, 1};
  bool has_right_ = false;
  std::vector<Series> series_;
  std::pair<double, double> xlim_{0, 1};
  bool has_xlim_ = false;
};

}  // namespace convkit::util
