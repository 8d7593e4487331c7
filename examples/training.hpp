// The training loop of the example programs (lenet, train), as d2l's train_ch6: one line
// per epoch, a progress bar on a terminal, the training curves as SVG, the confusion
// matrix at the end.
#pragma once
#include <chrono>
#include <convkit/convkit.hpp>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

/// Reads `--key value` pairs: each key's setter gets its value; --help / -h calls usage("").
/// An unknown key, a missing value or a value the setter rejects (std::stoi and friends
/// throw std::logic_error) calls usage with the problem.
inline void parse_options(int argc, char** argv,
                          const std::map<std::string, std::function<void(const std::string&)>>& setters,
                          void (*usage)(const std::string&)) {
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--help" || key == "-h") usage("");
    const auto it = setters.find(key);
    if (it == setters.end()) usage("unknown option " + key);
    if (i + 1 >= argc) usage("option " + key + " needs a value");
    const std::string v = argv[++i];
    try {
      it->second(v);
    } catch (const std::logic_error&) {
      usage(ck::detail::cat("bad value '", v, "' for ", key));
    }
  }
}

using Net = ck::nn::Sequential<float>;

/// Accuracy and confusion matrix of `net` on a data set whose labels index `classes`, in
/// eval mode and without recording a graph; the net is back in training mode afterwards.
inline ck::util::ConfusionMatrix evaluate(Net& net, ck::data::DataLoader<float>& loader, ck::Device device,
                                          const std::vector<std::string>& classes) {
  ck::NoGradGuard no_grad;
  net.eval();
  ck::util::ConfusionMatrix cm(classes);
  for (auto it = loader.begin(); it != loader.end(); ++it) {
    const auto batch = *it;
    cm.add(ck::util::argmax_rows(net(batch.x.to(device))), batch.labels);
  }
  net.train();
  return cm;
}

/// What a run measured.
struct RunResult {
  double train_loss = 0, train_acc = 0, test_acc = 0, seconds = 0;
  int64_t examples = 0;
};

/// How fit runs as one process of a data-parallel job (the defaults: a job of one).
struct Parallel {
  std::function<void()> after_backward;  ///< averages the gradients over the processes
  std::function<double(double)> sum;     ///< sums a number over the processes
  bool prints = true;                    ///< this process prints and plots (rank 0)
};

/// One epoch's figures, as printed.
struct EpochRecord {
  double loss = 0, train_acc = 0, test_acc = 0;
};

/// Trains `net` up to epoch `epochs`, printing a line per epoch and saving the curves to
/// `plot_path` after each ("none": no plot), then prints the summary lines and the confusion
/// matrix (labels index `classes`). In a data-parallel job the epoch's figures are the job's.
/// `records` holds the epochs a resumed run already did: training starts after them, and
/// the plot shows them too. `after_epoch(n, records)` runs on the printing process after
/// epoch n's line, with every epoch's figures so far (a checkpoint, say).
inline RunResult fit(Net& net, ck::data::DataLoader<float>& train_iter, ck::data::DataLoader<float>& test_iter,
                     const std::vector<std::string>& classes, ck::optim::Optimizer<float>& trainer, ck::Device device,
                     int epochs, const std::string& title, const std::string& plot_path,
                     const Parallel& parallel = Parallel(),
                     const std::function<void(int, const std::vector<EpochRecord>&)>& after_epoch = {},
                     std::vector<EpochRecord> records = {}) {
  auto total = [&](double v) { return parallel.sum ? parallel.sum(v) : v; };
  ck::util::LinePlot plot("epoch", "training loss");
  plot.set_title(title);
  plot.set_right_axis("accuracy", 0, 1);
  plot.set_xlim(0, epochs);
  RunResult r;
  for (size_t e = 0; e < records.size(); ++e) {  // a resumed run's epochs: their end points
    const auto at = static_cast<double>(e + 1);
    plot.add("train loss", at, records[e].loss);
    plot.add("train acc", at, records[e].train_acc, ck::util::Axis::Right);
    plot.add("test acc", at, records[e].test_acc, ck::util::Axis::Right);
    r.train_loss = records[e].loss;
    r.train_acc = records[e].train_acc;
    r.test_acc = records[e].test_acc;
  }
  for (int epoch = static_cast<int>(records.size()); epoch < epochs; ++epoch) {
    double loss_sum = 0;
    int64_t correct = 0, seen = 0, step = 0;
    const int64_t steps = train_iter.num_batches();
    ck::util::ProgressBar bar(parallel.prints ? steps : 0, "epoch " + std::to_string(epoch + 1));
    const auto t0 = std::chrono::steady_clock::now();
    for (auto it = train_iter.begin(); it != train_iter.end(); ++it, ++step) {
      const auto batch = *it;
      auto y_hat = net(batch.x.to(device));
      auto l = ck::cross_entropy(y_hat, batch.y);
      trainer.zero_grad();
      l.backward();
      if (parallel.after_backward) parallel.after_backward();
      trainer.step();
      const auto pred = ck::util::argmax_rows(y_hat);
      for (size_t i = 0; i < pred.size(); ++i) correct += pred[i] == batch.labels[i];
      loss_sum += static_cast<double>(l.item()) * static_cast<double>(batch.size());
      seen += batch.size();
      r.train_loss = loss_sum / static_cast<double>(seen);
      r.train_acc = static_cast<double>(correct) / static_cast<double>(seen);
      if ((step + 1) % 50 == 0 || step + 1 == steps) {
        const double at = epoch + static_cast<double>(step + 1) / static_cast<double>(steps);
        plot.add("train loss", at, r.train_loss);
        plot.add("train acc", at, r.train_acc, ck::util::Axis::Right);
      }
      char status[64];
      std::snprintf(status, sizeof status, "loss %.3f acc %.3f", r.train_loss, r.train_acc);
      if (parallel.prints) bar.update(step + 1, status);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (parallel.prints) bar.finish();
    if (parallel.sum) {  // the job's figures: every process's examples
      const double job_seen = total(static_cast<double>(seen));
      r.train_loss = total(loss_sum) / job_seen;
      r.train_acc = total(static_cast<double>(correct)) / job_seen;
      seen = static_cast<int64_t>(job_seen);
    }
    r.seconds += secs;
    r.examples += seen;
    r.test_acc = evaluate(net, test_iter, device, classes).accuracy();
    plot.add("test acc", epoch + 1, r.test_acc, ck::util::Axis::Right);
    records.push_back({r.train_loss, r.train_acc, r.test_acc});
    if (!parallel.prints) continue;
    std::printf("epoch %d: loss %.3f, train acc %.3f, test acc %.3f, %.1f examples/sec\n", epoch + 1, r.train_loss,
                r.train_acc, r.test_acc, static_cast<double>(seen) / secs);
    std::fflush(stdout);
    if (plot_path != "none") plot.save_svg(plot_path);
    if (after_epoch) after_epoch(epoch + 1, records);
  }
  if (!parallel.prints) return r;
  std::printf("loss %.3f, train acc %.3f, test acc %.3f\n", r.train_loss, r.train_acc, r.test_acc);
  if (r.examples > 0)
    std::printf("%.1f examples/sec on %s\n", r.seconds > 0 ? static_cast<double>(r.examples) / r.seconds : 0.0,
                device.str().c_str());
  const auto cm = evaluate(net, test_iter, device, classes);
  std::printf("\nconfusion matrix on the test set (rows: true class, columns: predicted)\n%s", cm.str().c_str());
  if (plot_path != "none" && epochs > 0) std::printf("training curves written to %s\n", plot_path.c_str());
  return r;
}

}  // namespace examples
