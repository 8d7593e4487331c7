// The compile-time probe of benchmarks/compile_time.sh: the smallest whole program that
// trains the d2l LeNet on Fashion-MNIST and reports its accuracy, as a user's first
// program would (the book's train_ch6 without the extras of examples/lenet.cpp: no
// checkpoints, plots, command line or second model). It builds and runs as `train_lenet_tu`.
#include <convkit/convkit.hpp>
#include <cstdio>

int main() try {
  ck::data::MnistDataset train_set(ck::data::default_fashion_mnist_dir(), ck::data::Split::Train);
  ck::data::MnistDataset test_set(ck::data::default_fashion_mnist_dir(), ck::data::Split::Test);
  ck::Generator gen(0);
  auto net = ck::models::lenet<float>(gen);
  ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);
  ck::optim::SGD<float> trainer(net.parameters(), 0.9);
  ck::data::DataLoader<float> train_iter(train_set, 256, true, 0), test_iter(test_set, 256, false);
  for (int epoch = 0; epoch < 10; ++epoch) {
    double loss_sum = 0;
    int64_t seen = 0;
    for (auto it = train_iter.begin(); it != train_iter.end(); ++it) {
      const auto batch = *it;
      auto l = ck::cross_entropy(net(batch.x), batch.y);
      trainer.zero_grad();
      l.backward();
      trainer.step();
      loss_sum += static_cast<double>(l.item()) * static_cast<double>(batch.size());
      seen += batch.size();
    }
    ck::NoGradGuard no_grad;
    int64_t correct = 0, total = 0;
    for (auto it = test_iter.begin(); it != test_iter.end(); ++it) {
      const auto batch = *it;
      const auto pred = ck::util::argmax_rows(net(batch.x));
      for (size_t i = 0; i < pred.size(); ++i) correct += pred[i] == batch.labels[i];
      total += batch.size();
    }
    std::printf("epoch %d: loss %.3f, test acc %.3f\n", epoch + 1, loss_sum / static_cast<double>(seen),
                static_cast<double>(correct) / static_cast<double>(total));
  }
} catch (const ck::Error& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
