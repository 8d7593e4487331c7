// Finite-difference gradient checks in double for every differentiable op.
#include "gradcheck.hpp"

namespace {
TD rnd(const ck::Shape& s, uint64_t seed) {
  ck::Generator gen(seed);
  return TD::uniform(s, -1.0, 1.0, gen);
}
}  // namespace

TEST_CASE("elementwise ops, reductions and views") {
  gradcheck("add broadcast", [](auto& v) { return v[0] + v[1]; }, {rnd({2, 3}, 1), rnd({3}, 2)});
  gradcheck("sub general broadcast", [](auto& v) { return v[0] - v[1]; }, {rnd({2, 1}, 1), rnd({1, 3}, 2)});
  gradcheck("mul", [](auto& v) { return v[0] * v[1]; }, {rnd({2, 3}, 3), rnd({2, 3}, 4)});
  gradcheck("div", [](auto& v) { return v[0] / (v[1] + 3.0); }, {rnd({2, 3}, 5), rnd({3}, 6)});
  gradcheck("neg and scalars", [](auto& v) { return 2.0 - (-v[0]) * 3.0 / 2.0; }, {rnd({4}, 7)});
  gradcheck("pow", [](auto& v) { return (v[0] + 2.0).pow(3.0); }, {rnd({5}, 8)});
  gradcheck("sum", [](auto& v) { return v[0].sum(); }, {rnd({2, 2}, 9)});
  gradcheck("mean", [](auto& v) { return v[0].mean(); }, {rnd({2, 3}, 10)});
  gradcheck("reshape and select", [](auto& v) { return v[0].reshape({3, 2})[1] * 2.0; }, {rnd({6}, 11)});
  gradcheck("transpose", [](auto& v) { return v[0].transpose(); }, {rnd({2, 3}, 12)});
  gradcheck("stack dim 1",
            [](auto& v) {
              return ck::stack(std::vector<TD>{v[0], v[1]}, 1);
            },
            {rnd({2, 3}, 13), rnd({2, 3}, 14)});
  gradcheck("clone", [](auto& v) { return v[0].clone() * v[0]; }, {rnd({3}, 15)});
}

TEST_CASE("matmul and linear") {
  gradcheck("matmul", [](auto& v) { return ck::matmul(v[0], v[1]); }, {rnd({3, 4}, 1), rnd({4, 2}, 2)});
  gradcheck("linear", [](auto& v) { return ck::linear(v[0], v[1], v[2]); },
            {rnd({3, 4}, 3), rnd({5, 4}, 4), rnd({5}, 5)});
  gradcheck("linear no bias", [](auto& v) { return ck::linear(v[0], v[1]); }, {rnd({2, 3}, 6), rnd({4, 3}, 7)});
}

TEST_CASE("activations and loss") {
  gradcheck("sigmoid", [](auto& v) { return ck::sigmoid(v[0]); }, {rnd({2, 3}, 1) * 4.0});
  gradcheck("tanh", [](auto& v) { return ck::tanh(v[0]); }, {rnd({2, 3}, 2) * 2.0});
  gradcheck("relu", [](auto& v) { return ck::relu(v[0]); }, {distinct_values({3, 4}, 3)});
  gradcheck("cross_entropy",
            [](auto& v) {
              return ck::cross_entropy(v[0], std::vector<int64_t>{2, 0, 1});
            },
            {rnd({3, 4}, 4) * 3.0});
}

TEST_CASE("d2l functions") {
  gradcheck("corr2d", [](auto& v) { return ck::corr2d(v[0], v[1]); }, {rnd({5, 6}, 1), rnd({2, 3}, 2)});
  gradcheck("corr2d_multi_in", [](auto& v) { return ck::corr2d_multi_in(v[0], v[1]); },
            {rnd({2, 4, 4}, 3), rnd({2, 2, 2}, 4)});
  gradcheck("corr2d_multi_in_out", [](auto& v) { return ck::corr2d_multi_in_out(v[0], v[1]); },
            {rnd({2, 4, 4}, 5), rnd({3, 2, 2, 2}, 6)});
  gradcheck("corr2d_multi_in_out_1x1", [](auto& v) { return ck::corr2d_multi_in_out_1x1(v[0], v[1]); },
            {rnd({3, 3, 3}, 7), rnd({2, 3, 1, 1}, 8)});
  gradcheck("pool2d max", [](auto& v) { return ck::pool2d(v[0], {2, 2}); }, {distinct_values({4, 5}, 9)});
  gradcheck("pool2d avg", [](auto& v) { return ck::pool2d(v[0], {2, 3}, ck::PoolMode::Avg); }, {rnd({4, 5}, 10)});
}

TEST_CASE("conv2d with every option") {
  struct Cfg {
    ck::Shape x, w;
    ck::Conv2dOptions o;
    bool bias;
  };
  const std::vector<Cfg> cfgs = {
      {{2, 3, 5, 5}, {4, 3, 3, 3}, ck::Conv2dOptions(), true},
      {{1, 2, 6, 7}, {3, 2, 3, 2}, ck::Conv2dOptions().stride({2, 3}).padding({1, 2}), true},
      {{1, 2, 7, 7}, {2, 2, 3, 3}, ck::Conv2dOptions().dilation(2).padding(3), false},
      {{2, 4, 5, 5}, {6, 2, 3, 3}, ck::Conv2dOptions().groups(2).padding(1), true},
      {{1, 3, 5, 4}, {3, 1, 3, 3}, ck::Conv2dOptions().groups(3).padding(1), true},  // depthwise
      {{1, 2, 6, 9}, {2, 1, 5, 5}, ck::Conv2dOptions().groups(2).padding({2, 3}).dilation({1, 2}), true},
      {{1, 2, 4, 4}, {4, 2, 1, 1}, ck::Conv2dOptions(), true},             // 1x1
      {{1, 1, 3, 3}, {1, 1, 2, 2}, ck::Conv2dOptions().padding(3), true},  // padding > kernel
  };
  for (size_t i = 0; i < cfgs.size(); ++i) {
    const auto& c = cfgs[i];
    std::vector<TD> in = {distinct_values(c.x, 100 + i), distinct_values(c.w, 200 + i)};
    if (c.bias) in.push_back(distinct_values({c.w[0]}, 300 + i));
    gradcheck(
        "conv2d config " + std::to_string(i),
        [&](auto& v) { return ck::conv2d(v[0], v[1], v.size() > 2 ? v[2] : TD(), c.o); }, in);
  }
}

TEST_CASE("pooling with every option") {
  gradcheck("max_pool2d pad/stride",
            [](auto& v) { return ck::max_pool2d(v[0], ck::Pool2dOptions(3).padding(1).stride(2)); },
            {distinct_values({2, 2, 5, 5}, 1)});
  gradcheck("max_pool2d dilation ceil",
            [](auto& v) {
              return ck::max_pool2d(v[0], ck::Pool2dOptions({2, 3}).dilation({2, 1}).ceil_mode(true).stride(2));
            },
            {distinct_values({1, 2, 7, 6}, 2)});
  gradcheck("max_pool2d big padding",
            [](auto& v) {
              return ck::max_pool2d(v[0], ck::Pool2dOptions({2, 3}).padding({1, 2}).stride({2, 3}));
            },
            {distinct_values({1, 1, 4, 4}, 3)});
  gradcheck("avg_pool2d", [](auto& v) { return ck::avg_pool2d(v[0], ck::Pool2dOptions(2).stride(2)); },
            {distinct_values({2, 2, 4, 6}, 4)});
  gradcheck("avg_pool2d ceil no pad count",
            [](auto& v) {
              return ck::avg_pool2d(v[0],
                                    ck::Pool2dOptions(3).stride(2).padding(1).ceil_mode(true).count_include_pad(false));
            },
            {distinct_values({1, 2, 6, 5}, 5)});
}

TEST_CASE("batch normalisation, adaptive pooling and concatenation") {
  // Training mode: the batch statistics depend on x, so every value's gradient involves
  // the whole channel. Fresh running statistics each call, so the check's repeated
  // forward passes all see the same ones.
  auto bn = [](bool training, bool affine) {
    return [training, affine](auto& v) {
      const int64_t C = v[0].size(1);
      TD rm = TD::zeros({C}), rv = TD::ones({C});
      return ck::batch_norm(v[0], rm, rv, affine ? v[1] : TD(), affine ? v[2] : TD(), training, 0.1, 1e-5);
    };
  };
  gradcheck("batch_norm training (N, C, H, W)", bn(true, true), {rnd({3, 2, 2, 3}, 1), rnd({2}, 2), rnd({2}, 3)});
  gradcheck("batch_norm training (N, C)", bn(true, true), {rnd({5, 3}, 4), rnd({3}, 5), rnd({3}, 6)});
  gradcheck("batch_norm training, no affine", bn(true, false), {rnd({4, 2, 1, 3}, 7)});
  gradcheck("batch_norm eval", bn(false, true), {rnd({2, 3, 2, 2}, 8), rnd({3}, 9), rnd({3}, 10)});
  gradcheck("adaptive_avg_pool2d, overlapping bins",
            [](auto& v) {
              return ck::adaptive_avg_pool2d(v[0], {3, 2});
            },
            {rnd({2, 2, 5, 7}, 11)});
  gradcheck("adaptive_avg_pool2d, bins repeating rows",
            [](auto& v) {
              return ck::adaptive_avg_pool2d(v[0], {4, 5});
            },
            {rnd({1, 2, 3, 2}, 12)});
  gradcheck("adaptive_avg_pool2d global",
            [](auto& v) {
              return ck::adaptive_avg_pool2d(v[0], {1, 1});
            },
            {rnd({2, 3, 4, 4}, 13)});
  gradcheck("cat dim 1",
            [](auto& v) {
              return ck::cat(std::vector<TD>{v[0], v[1], v[0]}, 1);
            },
            {rnd({2, 3, 2}, 14), rnd({2, 1, 2}, 15)});
  gradcheck("cat last dim",
            [](auto& v) {
              return ck::cat(std::vector<TD>{v[0], v[1]}, -1);
            },
            {rnd({2, 3}, 16), rnd({2, 4}, 17)});
}
