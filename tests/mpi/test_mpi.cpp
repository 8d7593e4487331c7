// Data-parallel training over MPI, run by ctest under mpirun (tests/mpi/CMakeLists.txt):
//   test_mpi basics    allreduce (sum, mean; float, double), broadcast, broadcast_module,
//                      DataParallel with gradients accumulated over two backward() calls,
//                      and with a frozen parameter
//   test_mpi sampler   every example exactly once per epoch over the ranks (with PyTorch's
//                      padding), the same number of batches on every rank, reproducible
//   test_mpi train     LeNet (ReLU), 200 steps of global batch 64 over the ranks against the same
//                      training in one process (rank 0 runs both): losses within 1e-5; with
//                      16 KB buckets, every bucket's allreduce starts during backward
//   test_mpi fail      rank 1 throws in the middle of training: the job must end
// Any mismatch aborts the job with a message naming the rank.
#include <cmath>
#include <convkit/convkit.hpp>
#include <convkit/distributed/mpi.hpp>
#include <cstdio>
#include <string>
#include <vector>

namespace {

namespace dist = ck::distributed;

void expect(const dist::ProcessGroup& world, bool ok, const std::string& what) {
  if (!ok) world.abort("FAILED: " + what);
}

void basics(const dist::ProcessGroup& world) {
  const int r = world.rank(), k = world.size();
  auto f = ck::Tensor<float>::full({3}, static_cast<float>(r + 1));
  world.allreduce(f);
  expect(world, f.to_vector() == std::vector<float>(3, static_cast<float>(k * (k + 1) / 2)), "allreduce sum (float)");
  auto d = ck::Tensor<double>::full({2, 2}, static_cast<double>(r));
  world.allreduce(d, dist::ReduceOp::Mean);
  expect(world, std::fabs(d.to_vector()[3] - (k - 1) / 2.0) < 1e-12, "allreduce mean (double)");
  auto b = ck::Tensor<double>::full({5}, static_cast<double>(r * 10 + 3));
  world.broadcast(b, k - 1);
  expect(world, b.to_vector() == std::vector<double>(5, (k - 1) * 10 + 3.0), "broadcast from the last rank");
  ck::Generator gen(static_cast<uint64_t>(100 + r));  // a different initialisation on every rank
  auto net = ck::models::lenet_bn<float>(10, gen);
  world.broadcast_module(net);
  std::vector<float> mine;
  for (const auto& [name, t] : net.named_parameters()) {
    const auto v = t.to_vector();
    mine.insert(mine.end(), v.begin(), v.end());
  }
  auto root = ck::Tensor<float>::from_vector(mine, ck::Shape{static_cast<int64_t>(mine.size())});
  world.broadcast(root, 0);
  expect(world, root.to_vector() == mine, "broadcast_module: every rank holds rank 0's parameters");

  // Two backward() calls before average_gradients(): the buckets started from the first
  // are sent again with the accumulated gradients. Rank r's loss is (r + 1) * sum(net(x) * w),
  // so the mean gradient is twice the gradient of sum(net(x) * w) times (k + 1) / 2. (The
  // weights w keep batch norm from making the earlier layers' gradients zero.)
  ck::Generator same(7);
  auto x = ck::Tensor<float>::normal({4, 1, 28, 28}, 0.0F, 1.0F, same);
  auto w = ck::Tensor<float>::normal({4, 10}, 0.0F, 1.0F, same);
  dist::DataParallel<float> ddp(net, world, 4096);
  for (int pass = 0; pass < 2; ++pass) ((net(x) * w).sum() * static_cast<float>(r + 1)).backward();
  ddp.average_gradients();
  std::vector<float> averaged;
  for (auto& p : net.parameters()) {
    const auto v = p.grad().to_vector();
    averaged.insert(averaged.end(), v.begin(), v.end());
    p.zero_grad();
  }
  (net(x) * w).sum().backward();
  // Rounding differs between the two computations; gradients that are zero up to rounding
  // (a bias ahead of batch norm) differ by as much, so the tolerance is relative to the largest.
  std::vector<double> expected;
  double largest = 0;
  for (auto& p : net.parameters())
    for (float g : p.grad().to_vector()) {
      expected.push_back(2.0 * g * (k + 1) / 2.0);
      largest = std::max(largest, std::fabs(expected.back()));
    }
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    worst = std::max(worst, std::fabs(averaged[i] - expected[i]) / (1e-4 * std::fabs(expected[i]) + 1e-5 * largest));
  expect(world, worst <= 1, "DataParallel: gradients accumulated over two backward() calls are averaged whole");

  // A frozen parameter (the first: in the last bucket) does not hold its bucket back.
  {
    ck::Generator g2(3);
    auto frozen = ck::models::lenet_bn<float>(10, g2);
    frozen.parameters()[0].requires_grad_(false);
    dist::DataParallel<float> ddp2(frozen, world, 4096);
    (frozen(x) * w).sum().backward();
    ddp2.average_gradients();
    expect(world, ddp2.buckets_started_in_backward() == static_cast<int64_t>(ddp2.bucket_count()),
           "DataParallel: a bucket holding a frozen parameter starts during backward");
  }
  world.barrier();
  if (r == 0) std::printf("basics OK on %d ranks (%zu buckets)\n", k, ddp.bucket_count());
}

void sampler(const dist::ProcessGroup& world) {
  const int r = world.rank(), k = world.size();
  const int64_t n = 23, batch = 4;
  auto x = ck::Tensor<float>::zeros({n, 1});
  auto y = ck::Tensor<int64_t>::arange(n);
  ck::data::TensorDataset<float> set(x, y);
  ck::data::DataLoader<float> loader(
      set, ck::data::DataLoaderOptions().batch_size(batch).shuffle(true).seed(5).shard(r, k).workers(r % 2));
  const int64_t padded = (n + k - 1) / k * k;
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<double> seen(static_cast<size_t>(n), 0.0);
    double batches = 0;
    for (auto b : loader) {
      batches += 1;
      for (int64_t label : b.labels) seen[static_cast<size_t>(label)] += 1;
    }
    world.allreduce(seen.data(), seen.size());
    double total = 0;
    for (double s : seen) {
      expect(world, s >= 1, "every example at least once per epoch over the ranks");
      total += s;
    }
    expect(world, total == static_cast<double>(padded), "the epoch holds the padded count of examples");
    // the repeated ones are the order's first, as PyTorch's DistributedSampler pads
    for (int64_t i = 0; i < padded - n; ++i)
      expect(world, seen[static_cast<size_t>(loader.order()[static_cast<size_t>(i)])] == 2,
             "padding repeats the start");
    double max_batches = batches;
    world.allreduce(&batches, 1);
    expect(world, batches == max_batches * k, "every rank gets the same number of batches");
  }
  if (r == 0)
    std::printf("sampler OK on %d ranks: %lld examples, padded to %lld\n", k, static_cast<long long>(n),
                static_cast<long long>(padded));
}

/// A synthetic image set whose class shows in the pixels.
ck::data::TensorDataset<float> synthetic(int64_t n) {
  ck::Generator gen(3);
  auto x = ck::Tensor<float>::uniform({n, 1, 28, 28}, 0.f, 0.3f, gen);
  auto y = ck::Tensor<int64_t>::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = (i * 7) % 10;
    y.data()[i] = label;
    for (int c = 0; c < 28; ++c) x.data()[i * 784 + (label * 2 + 4) * 28 + c] += 0.7f;
  }
  return ck::data::TensorDataset<float>(x, y);
}

void train(const dist::ProcessGroup& world, bool fail) {
  const int r = world.rank(), k = world.size();
  ck::set_num_threads(1);
  const int64_t batch = 64, steps = 200;
  auto set = synthetic(batch * 50);
  ck::Generator gen(0);
  auto net = ck::models::lenet_modern<float>(gen);  // LeNet with ReLU and max pooling: it learns in 200 steps
  ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);
  dist::DataParallel<float> ddp(net, world, 16 << 10);  // small buckets: several per step
  ck::optim::SGD<float> opt(net.parameters(), 0.1);
  ck::data::DataLoader<float> loader(set,
                                     ck::data::DataLoaderOptions().batch_size(batch).shuffle(true).seed(1).shard(r, k));
  // rank 0 also trains the same network in one process on the whole global batches
  ck::Generator gen_ref(0);
  auto ref = ck::models::lenet_modern<float>(gen_ref);
  ck::nn::init::initialize(ref, ck::nn::init::Scheme::XavierUniform, gen_ref);
  ck::optim::SGD<float> opt_ref(ref.parameters(), 0.1);
  ck::data::DataLoader<float> ref_loader(set, ck::data::DataLoaderOptions().batch_size(batch).shuffle(true).seed(1));
  auto it = loader.begin();
  auto ref_it = ref_loader.begin();
  double worst = 0, first = 0, last = 0, last_ddp = 0;
  for (int64_t step = 0; step < steps; ++step) {
    if (!(it != loader.end())) {
      it = loader.begin();
      ref_it = ref_loader.begin();
    }
    if (fail && r == 1 && step == 5) throw ck::Error("test_mpi: rank 1 fails on purpose at step 5");
    const auto b = *it;
    auto loss = ck::cross_entropy(net(b.x), b.y);
    opt.zero_grad();
    loss.backward();
    ddp.average_gradients();
    opt.step();
    double global = loss.item();
    world.allreduce(&global, 1, dist::ReduceOp::Mean);
    if (r == 0) {
      const auto rb = *ref_it;
      auto ref_loss = ck::cross_entropy(ref(rb.x), rb.y);
      opt_ref.zero_grad();
      ref_loss.backward();
      opt_ref.step();
      const double rel = std::fabs(global - ref_loss.item()) / std::fabs(ref_loss.item());
      // The first steps agree to rounding; later ones drift apart as float rounding grows
      // through training (by step 19 about 1e-3 here), as any two summation orders do.
      if (step < 10) worst = std::max(worst, rel);
      if (step == 0) first = ref_loss.item();
      last = ref_loss.item();
      last_ddp = global;
    }
    ++it;
    ++ref_it;
  }
  if (r == 0) {
    std::printf(
        "train: %d ranks x batch %lld / %d, %lld steps: loss %.4f -> %.4f (one process: %.4f); the first 10 "
        "steps' losses within %.2g (relative) of one process's\n",
        k, static_cast<long long>(batch), k, static_cast<long long>(steps), first, last_ddp, last, worst);
    expect(world, worst <= 1e-5, "the first losses equal one process's within 1e-5");
    expect(world, last_ddp < 0.1 * first && last < 0.1 * first, "the loss goes down in both");
  }
  if (r == 0)
    std::printf(
        "train: %zu buckets a step, %lld of %lld started during backward; %.3f s communicating, %.3f s of "
        "it after backward\n",
        ddp.bucket_count(), static_cast<long long>(ddp.buckets_started_in_backward()),
        static_cast<long long>(steps * static_cast<int64_t>(ddp.bucket_count())), ddp.communication_seconds(),
        ddp.exposed_seconds());
  expect(world, ddp.bucket_count() > 2, "LeNet's parameters fill several 16 KB buckets");
  expect(world, ddp.buckets_started_in_backward() == steps * static_cast<int64_t>(ddp.bucket_count()),
         "every bucket's allreduce starts during backward");
  world.barrier();
}

}  // namespace

int main(int argc, char** argv) {
  dist::ProcessGroup world(&argc, &argv);
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "basics") {
      basics(world);
    } else if (mode == "sampler") {
      sampler(world);
    } else if (mode == "train" || mode == "fail") {
      train(world, mode == "fail");
    } else {
      world.abort("usage: test_mpi basics|sampler|train|fail");
    }
  } catch (const ck::Error& e) {
    world.abort(e.what());
  }
  return 0;
}
