// The autograd engine: accumulation, shared subexpressions, freeing, NoGradGuard, detach.
#include <doctest/doctest.h>

#include <convkit/convkit.hpp>

using TD = ck::Tensor<double>;

TEST_CASE("gradients accumulate across backward calls until zero_grad") {
  auto x = TD::from({1, 2, 3}).requires_grad_();
  CHECK(x.requires_grad());
  CHECK(x.is_leaf());
  CHECK_FALSE(x.grad().defined());
  (x * x).sum().backward();
  CHECK(x.grad().to_vector() == std::vector<double>{2, 4, 6});
  (x * 3.0).sum().backward();
  CHECK(x.grad().to_vector() == std::vector<double>{5, 7, 9});
  x.zero_grad();
  CHECK(x.grad().to_vector() == std::vector<double>{0, 0, 0});
}

TEST_CASE("a tensor used twice gets both contributions") {
  auto x = TD::from({2.0}).requires_grad_();
  auto y = x * x + x;  // dy/dx = 2x + 1
  auto z = y * y;      // dz/dx = 2y (2x + 1) = 2 * 6 * 5
  z.sum().backward();
  CHECK(x.grad().item() == doctest::Approx(60.0));
}

TEST_CASE("gradients that share memory are summed without overwriting each other") {
  // x + x hands the same gradient tensor to both inputs; the reshapes pass views of their
  // output gradients on. Each contribution must be added exactly once.
  auto x = TD::arange(6).requires_grad_();
  auto y = x + x;
  auto a = y.reshape({2, 3}), b = y.reshape({3, 2});
  auto loss = (a * 3.0).sum() + b.sum() + y.sum();  // d/dy = 3 + 1 + 1, d/dx = 2 * 5
  loss.backward();
  CHECK(x.grad().to_vector() == std::vector<double>(6, 10.0));
  auto g = x.grad();
  (x * 2.0).sum().backward();  // a held .grad handle sees later accumulation
  CHECK(g.to_vector() == std::vector<double>(6, 12.0));
}

TEST_CASE("broadcast gradients are summed back to the input's shape") {
  auto a = TD::from({{1, 2, 3}, {4, 5, 6}}).requires_grad_();
  auto b = TD::from({1, 1, 1}).requires_grad_();
  auto s = TD::full({}, 2.0).requires_grad_();
  ((a + b) * s).sum().backward();
  CHECK(a.grad().to_vector() == std::vector<double>(6, 2.0));
  CHECK(b.grad().to_vector() == std::vector<double>{4, 4, 4});
  CHECK(s.grad().item() == doctest::Approx(27.0));  // sum(a + b) = 21 + 6
}

TEST_CASE("views pass gradients through") {
  auto x = TD::arange(6).requires_grad_();
  auto m = x.reshape({2, 3});
  (m[1] * 2.0).sum().backward();
  CHECK(x.grad().to_vector() == std::vector<double>{0, 0, 0, 2, 2, 2});
}

TEST_CASE("NoGradGuard records nothing, and detach cuts the graph") {
  auto x = TD::from({1, 2}).requires_grad_();
  {
    ck::NoGradGuard guard;
    auto y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
  }
  auto y = x * 2.0;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK_FALSE(y.detach().requires_grad());
}

TEST_CASE("the graph is freed after backward") {
  auto x = TD::from({1, 2}).requires_grad_();
  auto loss = (x * x).sum();
  std::weak_ptr<ck::TensorImpl<double>> x_from_graph = loss.impl()->grad_fn->inputs.at(0);
  loss.backward();
  CHECK(loss.impl()->grad_fn->inputs.empty());
  CHECK_THROWS_AS(loss.backward(), ck::Error);
  // Repeated steps do not keep earlier graphs alive: the intermediate is released.
  std::weak_ptr<ck::TensorImpl<double>> mid;
  {
    auto h = x * 3.0;
    mid = h.impl();
    (h * h).sum().backward();
  }
  CHECK(mid.expired());
}

TEST_CASE("in-place updates of parameters need NoGradGuard") {
  auto w = TD::from({1, 2}).requires_grad_();
  CHECK_THROWS_AS(w.fill_(0.0), ck::Error);
  ck::NoGradGuard guard;
  w.add_(TD::from({1, 1}), -0.5);
  CHECK(w.to_vector() == std::vector<double>{0.5, 1.5});
}

TEST_CASE("post-accumulate-grad hooks run once a leaf's gradient is complete, once per backward") {
  // w feeds three ops (two products and a sum), so its gradient has three parts; the hook
  // must see all of them.
  auto w = TD::from({1, 2}).requires_grad_();
  auto x = TD::from({3, 4}).requires_grad_();
  std::vector<std::vector<double>> seen_w;
  int x_calls = 0;
  w.register_post_accumulate_grad_hook([&](TD& leaf) { seen_w.push_back(leaf.grad().to_vector()); });
  x.register_post_accumulate_grad_hook([&](TD&) { ++x_calls; });
  auto loss = (w * x).sum() + (w * w).sum() + w.sum();  // d/dw = x + 2w + 1 = (6, 9)
  loss.backward();
  REQUIRE(seen_w.size() == 1);
  CHECK(seen_w[0] == std::vector<double>{6, 9});
  CHECK(x_calls == 1);
  ((w * x).sum()).backward();  // accumulates: (6, 9) + (3, 4)
  REQUIRE(seen_w.size() == 2);
  CHECK(seen_w[1] == std::vector<double>{9, 13});
  // a leaf the backward does not reach is not called
  auto unused = TD::from({1}).requires_grad_();
  int unused_calls = 0;
  unused.register_post_accumulate_grad_hook([&](TD&) { ++unused_calls; });
  (w.sum()).backward();
  CHECK(unused_calls == 0);
  CHECK(seen_w.size() == 3);
  // only leaves that require grad take hooks
  auto h = w * 2.0;
  CHECK_THROWS_AS(h.register_post_accumulate_grad_hook([](TD&) {}), ck::Error);
  CHECK_THROWS_AS(TD::from({1}).register_post_accumulate_grad_hook([](TD&) {}), ck::Error);
}
