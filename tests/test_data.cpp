// IDX reader, Fashion-MNIST dataset, DataLoader, safetensors checkpoints, a training smoke test.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <convkit/convkit.hpp>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>

#include "golden.hpp"
#include "test_util.hpp"

namespace {

std::string temp_dir() { return test_temp_dir("test"); }

std::vector<unsigned char> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<unsigned char>& data) {
  std::vector<unsigned char> out = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<unsigned char>(d >> s));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_file(const std::string& path, const std::vector<unsigned char>& bytes, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
  }
}

std::vector<unsigned char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// A tiny MNIST-like folder: n images of 28x28 whose class is visible in the pixels
/// (class k lights up row band k), with labels 0..9.
std::string make_dataset(const std::string& name, int n, bool gzip, int label_offset = 0) {
  const std::string dir = temp_dir() + "/" + name;
  ::mkdir(dir.c_str(), 0755);
  for (const char* split : {"train", "t10k"}) {
    std::vector<unsigned char> px(static_cast<size_t>(n) * 784), labels(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      const int k = (i * 7) % 10;
      labels[static_cast<size_t>(i)] = static_cast<unsigned char>(k + label_offset);
      for (int r = 0; r < 28; ++r)
        for (int c = 0; c < 28; ++c)
          px[static_cast<size_t>(i) * 784 + static_cast<size_t>(r * 28 + c)] =
              static_cast<unsigned char>((r / 3 == k ? 200 : 10) + (i * 13 + r * 5 + c) % 40);
    }
    const std::string sfx = gzip ? ".gz" : "";
    write_file(dir + "/" + split + "-images-idx3-ubyte" + sfx, idx_bytes({uint32_t(n), 28, 28}, px), gzip);
    write_file(dir + "/" + split + "-labels-idx1-ubyte" + sfx, idx_bytes({uint32_t(n)}, labels), gzip);
  }
  return dir;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// One pass over the loader with `opt`; returns each step's loss.
std::vector<float> train_epoch(ck::nn::Module<float>& net, ck::optim::Optimizer<float>& opt,
                               ck::data::DataLoader<float>& loader) {
  std::vector<float> losses;
  for (auto it = loader.begin(); it != loader.end(); ++it) {
    const auto batch = *it;
    auto l = ck::cross_entropy(net(batch.x), batch.y);
    opt.zero_grad();
    l.backward();
    opt.step();
    losses.push_back(l.item());
  }
  return losses;
}

}  // namespace

TEST_CASE("IDX: valid plain and gzip files load with the right values") {
  for (bool gz : {false, true}) {
    const auto dir = make_dataset(gz ? "valid_gz" : "valid_plain", 20, gz);
    ck::data::MnistDataset ds(dir, ck::data::Split::Train);
    CHECK(ds.size() == 20);
    CHECK(ds.images().shape() == ck::Shape{20, 1, 28, 28});
    CHECK(ds.labels()[1] == 7);
    const float first = ds.images().data()[0];
    CHECK(first == doctest::Approx((200 + 0) / 255.0));  // image 0 is class 0: row 0 lit
    for (float v : ds.images().to_vector()) CHECK((v >= 0.f && v <= 1.f));
    CHECK(ds.class_names().size() == 10);
    CHECK(ck::data::MnistDataset::available(dir));
  }
}

TEST_CASE("IDX: bad files are rejected with the file and the problem named") {
  const std::string d = temp_dir();
  const auto good = idx_bytes({3, 2, 2}, std::vector<unsigned char>(12, 1));
  auto truncated = good;
  truncated.resize(good.size() - 3);
  write_file(d + "/trunc", truncated, false);
  std::string e = error_of([&] { ck::data::read_idx(d + "/trunc", 3); });
  CHECK(contains(e, d + "/trunc"));
  CHECK(contains(e, "truncated"));

  auto magic = good;
  magic[0] = 7;
  write_file(d + "/magic", magic, false);
  CHECK(contains(error_of([&] { ck::data::read_idx(d + "/magic", 3); }), "bad magic number"));

  auto type = good;
  type[2] = 0x0D;
  write_file(d + "/type", type, false);
  CHECK(contains(error_of([&] { ck::data::read_idx(d + "/type", 3); }), "element type"));

  write_file(d + "/rank", good, false);
  CHECK(contains(error_of([&] { ck::data::read_idx(d + "/rank", 1); }), "has 3 dimensions, expected 1"));

  auto trailing = good;
  trailing.push_back(0);
  write_file(d + "/trailing", trailing, false);
  CHECK(contains(error_of([&] { ck::data::read_idx(d + "/trailing", 3); }), "trailing bytes"));

  write_file(d + "/short", {0, 0}, false);
  CHECK(contains(error_of([&] { ck::data::read_idx(d + "/short", 3); }), "too short"));

  CHECK(contains(error_of([&] { ck::data::read_idx(d + "/missing", 3); }), "cannot open"));

  // gzip damage: a truncated stream and a corrupted one.
  write_file(d + "/good.gz", good, true);
  auto gz = read_file(d + "/good.gz");
  auto gz_cut = gz;
  gz_cut.resize(gz.size() / 2);
  write_file(d + "/cut.gz", gz_cut, false);
  CHECK(contains(error_of([&] { ck::data::read_idx(d + "/cut.gz", 3); }), "gzip"));
  auto gz_bad = gz;
  for (size_t i = 12; i < gz_bad.size() - 8; ++i) gz_bad[i] ^= 0x5A;
  write_file(d + "/bad.gz", gz_bad, false);
  CHECK(contains(error_of([&] { ck::data::read_idx(d + "/bad.gz", 3); }), "gzip"));
}

TEST_CASE("dataset: mismatched counts, labels out of range, missing files") {
  const auto dir = make_dataset("mismatch", 10, false);
  write_file(dir + "/train-labels-idx1-ubyte", idx_bytes({9}, std::vector<unsigned char>(9, 1)), false);
  auto e = error_of([&] { ck::data::MnistDataset(dir, ck::data::Split::Train); });
  CHECK(contains(e, "10 images"));
  CHECK(contains(e, "9 labels"));

  const auto bad_labels = make_dataset("badlabels", 10, false, 1);  // labels 1..10
  e = error_of([&] { ck::data::MnistDataset(bad_labels, ck::data::Split::Train); });
  CHECK(contains(e, "label 10"));

  e = error_of([&] { ck::data::MnistDataset(temp_dir() + "/nothing-here", ck::data::Split::Test); });
  CHECK(contains(e, "not found"));
  CHECK(contains(e, "apt-get install dataset-fashion-mnist"));
}

TEST_CASE("DataLoader: every example once per epoch, reproducible shuffle, partial last batch") {
  const auto dir = make_dataset("loader", 23, false);
  ck::data::MnistDataset ds(dir, ck::data::Split::Train);
  ck::data::DataLoader<float> loader(ds, 5, true, 123);
  CHECK(loader.num_batches() == 5);
  std::vector<std::vector<int64_t>> epochs;
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<int64_t> sizes;
    std::multiset<int64_t> seen;
    for (auto it = loader.begin(); it != loader.end(); ++it) {
      const auto batch = *it;
      sizes.push_back(batch.size());
      CHECK(batch.x.shape() == ck::Shape{batch.size(), 1, 28, 28});
      CHECK(batch.y.to_vector() == batch.labels);
    }
    for (int64_t i : loader.order()) seen.insert(i);
    CHECK(sizes == std::vector<int64_t>{5, 5, 5, 5, 3});
    CHECK(seen.size() == 23);
    CHECK(std::set<int64_t>(seen.begin(), seen.end()).size() == 23);
    epochs.push_back(loader.order());
  }
  CHECK(epochs[0] != epochs[1]);  // a new order each epoch
  ck::data::DataLoader<float> again(ds, 5, true, 123);
  again.begin();
  CHECK(again.order() == epochs[0]);  // the same seed, the same first epoch
  ck::data::DataLoader<float> resumed(ds, 5, true, 123);
  resumed.skip_epochs(1);  // a run resumed after epoch 1
  CHECK(resumed.epoch() == 1);
  resumed.begin();
  CHECK(resumed.order() == epochs[1]);
  CHECK(resumed.epoch() == 2);
  // The batch holds the images of the shuffled indices.
  const auto b0 = *again.begin();
  const int64_t src = again.order()[0];
  CHECK(b0.labels[0] == ds.labels()[static_cast<size_t>(src)]);
  CHECK(b0.x.data()[100] == ds.images().data()[src * 784 + 100]);
  ck::data::DataLoader<float> plain(ds, 10, false);
  plain.begin();
  CHECK(plain.order()[5] == 5);
}

// Bilinear resizing as PyTorch's interpolate(mode="bilinear", align_corners=False): the
// expected values were printed by PyTorch 1.13 for x = arange(12) ** 1.5 as 3x4, to 5x7.
TEST_CASE("resize_bilinear matches PyTorch's bilinear interpolation, and the DataLoader serves resized batches") {
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[static_cast<size_t>(i)] = std::pow(static_cast<float>(i), 1.5f);
  const std::vector<float> want = {0.0f,       0.357143f,  0.928571f,  1.914214f,  2.997551f,  4.350536f,  5.196152f,
                                   3.2f,       3.86862f,   4.938412f,  6.323985f,  7.786544f,  9.472238f,  10.525796f,
                                   8.000001f,  9.135837f,  10.953174f, 12.938641f, 14.970035f, 17.154789f, 18.520262f,
                                   16.776451f, 18.167767f, 20.393875f, 22.762291f, 25.16997f,  27.710192f, 29.297829f,
                                   22.627417f, 24.189053f, 26.687674f, 29.311388f, 31.969927f, 34.747124f, 36.482872f};
  std::vector<float> got(35);
  ck::data::resize_bilinear(x.data(), 1, 3, 4, got.data(), 5, 7);
  for (size_t i = 0; i < want.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
  CHECK_THROWS_AS(ck::data::resize_bilinear(x.data(), 1, 3, 4, got.data(), 0, 7), ck::Error);

  const auto dir = make_dataset("resize", 7, false);
  ck::data::MnistDataset ds(dir, ck::data::Split::Train);
  ck::data::DataLoader<float> loader(ds, 4, false);
  loader.resize(56, 42);
  const auto batch = *loader.begin();
  CHECK(batch.x.shape() == ck::Shape{4, 1, 56, 42});
  std::vector<float> second(56 * 42);  // image 1, resized on its own
  ck::data::resize_bilinear(ds.images().data() + 784, 1, 28, 28, second.data(), 56, 42);
  CHECK(std::equal(second.begin(), second.end(), batch.x.data() + 56 * 42));
  CHECK_THROWS_AS(loader.resize(0, 224), ck::Error);
}

TEST_CASE("checkpoints: bit-exact round trip, atomic save, validation on load") {
  const std::string path = temp_dir() + "/lenet.safetensors";
  ck::Generator gen(5);
  auto net = ck::models::lenet<float>(gen);
  ck::io::save(net, path);
  CHECK(::access((path + ".tmp." + std::to_string(::getpid())).c_str(), F_OK) != 0);  // no temporary left behind
  auto other = ck::models::lenet<float>();
  ck::io::load(other, path);
  const auto a = net.parameters(), b = other.parameters();
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].to_vector() == b[i].to_vector());

  const auto bytes = read_file(path);
  auto cut = bytes;
  cut.resize(bytes.size() - 100);
  write_file(path + ".cut", cut, false);
  CHECK(contains(error_of([&] { ck::io::load(other, path + ".cut"); }), "truncated"));
  auto garbage = bytes;
  garbage[8] = '#';  // the header's opening brace
  write_file(path + ".bad", garbage, false);
  CHECK(contains(error_of([&] { ck::io::load(other, path + ".bad"); }), "malformed JSON"));
  auto huge = bytes;
  huge[6] = 1;
  write_file(path + ".huge", huge, false);
  CHECK(contains(error_of([&] { ck::io::load(other, path + ".huge"); }), "declares a header"));
  auto modern = ck::models::lenet_modern<float>();
  CHECK_NOTHROW(ck::io::load(modern, path));  // same names and shapes
  ck::nn::Sequential<float> small(ck::nn::Linear<float>(3, 2));
  auto e = error_of([&] { ck::io::load(small, path); });
  CHECK(contains(e, "0.weight"));
  CHECK(contains(e, "shape"));
  CHECK(contains(error_of([&] { ck::io::save(net, "/nonexistent-dir/x.safetensors"); }), "cannot create"));
}

TEST_CASE("checkpoints: metadata round trip, with quotes and control characters, and 'format' kept") {
  const std::string path = temp_dir() + "/meta.safetensors";
  auto net = ck::models::lenet<float>();
  const ck::io::Metadata written{{"convkit.epoch", "3"}, {"note", "a \"quoted\"\tline\nand \\ more"}, {"empty", ""}};
  ck::io::save(net, path, written);
  ck::io::Metadata read;
  auto other = ck::models::lenet<float>();
  ck::io::load(other, path, &read);
  CHECK(read.size() == 4);
  CHECK(read.at("format") == "pt");  // what PyTorch's loaders expect
  for (const auto& [key, value] : written) CHECK(read.at(key) == value);
  ck::io::Metadata via_file;
  CHECK(ck::io::load_safetensors(path, &via_file).size() == other.state().size());
  CHECK(via_file == read);

  ck::io::save(net, path, {{"format", "mine"}});
  CHECK_NOTHROW(ck::io::load(other, path, &read));
  CHECK(read == ck::io::Metadata{{"format", "mine"}});

  // A file that fails a check leaves the caller's metadata as it was.
  auto cut = read_file(path);
  cut.resize(cut.size() - 4);
  write_file(path + ".cut", cut, false);
  ck::io::Metadata untouched{{"kept", "yes"}};
  CHECK_THROWS_AS(ck::io::load(other, path + ".cut", &untouched), ck::Error);
  CHECK(untouched == ck::io::Metadata{{"kept", "yes"}});
}

TEST_CASE("checkpoints: the independently written d2l LeNet reproduces the golden logits") {
  const std::string path = std::string(CONVKIT_TEST_DATA_DIR) + "/interop/lenet_d2l.safetensors";
  auto net = ck::models::lenet<float>();
  ck::io::load(net, path);
  const auto cases = golden::load("lenet");
  const golden::Case* c = nullptr;
  for (const auto& k : cases)
    if (k.name == "d2l_lenet_batch2") c = &k;
  REQUIRE(c != nullptr);
  const auto logits = net(c->at("x").as<float>()).to_vector();
  const auto& ref = c->at("logits").values;
  REQUIRE(logits.size() == ref.size());
  for (size_t i = 0; i < ref.size(); ++i) CHECK(std::fabs(logits[i] - ref[i]) <= 1e-6);
}

TEST_CASE("training smoke test: the loss goes down on a few hundred examples") {
  const auto dir = make_dataset("smoke", 300, true);
  ck::data::MnistDataset ds(dir, ck::data::Split::Train);
  ck::Generator gen(1);
  auto net = ck::models::lenet_modern<float>(gen);
  ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);
  ck::optim::Adam<float> opt(net.parameters(), ck::optim::AdamOptions(3e-3));
  ck::data::DataLoader<float> loader(ds, 50, true, 1);
  std::vector<float> losses;
  for (int epoch = 0; epoch < 5; ++epoch) {
    const auto epoch_losses = train_epoch(net, opt, loader);
    losses.insert(losses.end(), epoch_losses.begin(), epoch_losses.end());
  }
  const float first = (losses[0] + losses[1]) / 2, last = (losses[losses.size() - 1] + losses[losses.size() - 2]) / 2;
  INFO("first " << first << " last " << last);
  CHECK(last < 0.5f * first);
}

TEST_CASE("real Fashion-MNIST: one epoch on 2,000 images reaches test accuracy above 0.5") {
  const std::string dir = ck::data::default_fashion_mnist_dir();
  if (!ck::data::MnistDataset::available(dir)) {
    MESSAGE("skipped: Fashion-MNIST is not installed in " << dir);
    return;
  }
  ck::data::MnistDataset train(dir, ck::data::Split::Train), test(dir, ck::data::Split::Test);
  train.truncate(2000);
  test.truncate(2000);
  ck::Generator gen(0);
  auto net = ck::models::lenet_modern<float>(gen);
  ck::nn::init::initialize(net, ck::nn::init::Scheme::XavierUniform, gen);
  ck::optim::SGD<float> opt(net.parameters(), ck::optim::SGDOptions(0.05).momentum(0.9));
  ck::data::DataLoader<float> loader(train, 32, true, 0);
  train_epoch(net, opt, loader);
  ck::NoGradGuard no_grad;
  ck::util::ConfusionMatrix cm(test.class_names());
  ck::data::DataLoader<float> test_loader(test, 500, false);
  for (auto it = test_loader.begin(); it != test_loader.end(); ++it) {
    const auto b = *it;
    cm.add(ck::util::argmax_rows(net(b.x)), b.labels);
  }
  MESSAGE("test accuracy after one epoch on 2,000 images: " << cm.accuracy());
  CHECK(cm.accuracy() > 0.5);
}

TEST_CASE("training plot: a title, both axes labelled, ticks at round values, accuracy on its own scale") {
  ck::util::LinePlot plot("epoch", "training loss");
  plot.set_title("LeNet on Fashion-MNIST");
  plot.set_right_axis("accuracy", 0, 1);
  plot.set_xlim(0, 10);
  for (int e = 1; e <= 10; ++e) {
    plot.add("train loss", e, 2.3 / e);
    plot.add("test acc", e, 0.5 + 0.04 * e, ck::util::Axis::Right);
  }
  const std::string svg = plot.svg();
  CHECK(contains(svg, ">LeNet on Fashion-MNIST</text>"));
  CHECK(contains(svg, ">training loss</text>"));
  CHECK(contains(svg, ">accuracy</text>"));
  CHECK(contains(svg, ">epoch</text>"));
  CHECK(contains(svg, ">2.5</text>"));  // the loss axis ends at a round 2.5 above its 2.3
  CHECK(contains(svg, ">0.6</text>"));  // accuracy ticks at 0, 0.2, ..., 1
  CHECK_FALSE(contains(svg, ">0.496</text>"));
  CHECK(contains(svg, ">test acc (right)</text>"));
}

TEST_CASE("checkpoints: a BN-LeNet saved by PyTorch (parameters and buffers) gives PyTorch's logits") {
  const std::string dir = std::string(CONVKIT_TEST_DATA_DIR) + "/interop/";
  std::ifstream in(dir + "lenet_bn_torch.txt");
  REQUIRE(in.good());
  std::map<std::string, std::vector<float>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    for (float v; ls >> v;) rows[key].push_back(v);
  }
  REQUIRE(rows["x"].size() == 4 * 28 * 28);
  auto net = ck::models::lenet_bn<float>();
  ck::io::load(net, dir + "lenet_bn_torch.safetensors");
  net.eval();
  auto& bn = net.at<ck::nn::BatchNorm2d<float>>(1);
  CHECK(bn.num_batches_tracked().item() == 3.f);  // stored as int64 by PyTorch
  const auto logits = net(ck::Tensor<float>::from_vector(rows["x"], {4, 1, 28, 28})).to_vector();
  REQUIRE(logits.size() == rows["logits"].size());
  float scale = 0, worst = 0;
  for (float v : rows["logits"]) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < logits.size(); ++i) worst = std::max(worst, std::fabs(logits[i] - rows["logits"][i]));
  CHECK(worst <= 1e-5f * scale);

  // Saved again by convkit and read back: the same state, counts still int64.
  const std::string path = temp_dir() + "/lenet_bn.safetensors";
  ck::io::save(net, path);
  const auto stored = ck::io::load_safetensors(path);
  CHECK(stored.at("1.num_batches_tracked").dtype == "I64");
  CHECK(stored.at("1.running_var").dtype == "F32");
  CHECK(stored.size() == net.state().size());
  auto again = ck::models::lenet_bn<float>();
  ck::io::load(again, path);
  again.eval();
  CHECK(again(ck::Tensor<float>::from_vector(rows["x"], {4, 1, 28, 28})).to_vector() == logits);
  // A checkpoint without the buffers does not load into a model that has them.
  ck::io::save_safetensors<float>(path, net.named_parameters());
  CHECK(contains(error_of([&] { ck::io::load(again, path); }), "running_mean"));
}
