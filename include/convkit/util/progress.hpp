#pragma once
// A one-line progress bar for long loops, drawn on stderr only when it is a terminal
// (so logs and pipes get clean lines).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace convkit::util {

/// A progress bar on stderr with rate and time left, drawn only when stderr is a terminal (logs stay clean).
class ProgressBar {
 public:
  /// A bar for `total` steps, prefixed by `label`.
  ProgressBar(int64_t total, std::string label)
      : total_(total),
        label_(std::move(label)),
        enabled_(::isatty(::fileno(stderr)) != 0),
        start_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Shows `done` of `total` steps, with `status` (e.g. the running loss) after the bar.
  void update(int64_t done, const std::string& status = "") {
    if (!enabled_ || total_ <= 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;  // redraw at most 10x a second
    last_ = now;
    constexpr int width = 30;
    const int filled = static_cast<int>(width * done / total_);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < width) bar += '>' + std::string(static_cast<size_t>(width - filled - 1), ' ');
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double eta = done > 0 ? secs * static_cast<double>(total_ - done) / static_cast<double>(done) : 0;
    std::fprintf(stderr, "\r%s [%s] %lld/%lld %s  %.0fs left \033[K", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), status.c_str(), eta);
    std::fflush(stderr);
    drawn_ = true;
  }
  /// Clears the bar's line so the next output starts clean.
  void finish() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

 private:
  int64_t total_;
  std::string label_;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace convkit::util
