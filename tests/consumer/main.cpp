// Trains the d2l edge-detection kernel with the installed convkit and checks the result.
#include <cmath>
#include <convkit/convkit.hpp>
#include <cstdio>

int main() {
  using Tensor = ck::Tensor<float>;
  auto X = Tensor::ones({6, 8});
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 2; j < 6; ++j) X.data()[i * 8 + j] = 0;
  auto Y = ck::corr2d(X, Tensor::from({{1.0, -1.0}})).reshape({1, 1, 6, 7});
  ck::Generator gen(1);
  ck::nn::Conv2d<float> conv(1, 1, {1, 2}, ck::Conv2dOptions().bias(false), gen);
  ck::optim::SGD<float> opt(conv.parameters(), 3e-2);
  float loss = 0;
  for (int i = 0; i < 30; ++i) {
    auto l = (conv(X.reshape({1, 1, 6, 8})) - Y).pow(2).sum();
    opt.zero_grad();
    l.backward();
    opt.step();
    loss = l.item();
  }
  const auto k = conv.weight().to_vector();
  std::printf("convkit %s: learned kernel [%.4f, %.4f], loss %.6f\n", ck::version().c_str(), k[0], k[1], loss);
  const bool ok = std::fabs(k[0] - 1) < 0.02f && std::fabs(k[1] + 1) < 0.02f && loss < 1e-3f;
  std::puts(ok ? "consumer: OK" : "consumer: FAILED");
  return ok ? 0 : 1;
}
