// Datasets of the user's own data: TensorDataset, ImageFolder on images the test writes
// (PNG, JPEG, BMP; gray and colour), a user's own dataset type, transforms, and the
// DataLoader with and without workers: every example once, reproducible, errors raised
// in the calling thread.
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <convkit/convkit.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

std::string temp_dir() { return test_temp_dir("datasets"); }

std::string make_dir(const std::string& path) {
  ::mkdir(path.c_str(), 0755);
  return path;
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
}

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Pixels of a w x h image with `comp` channels whose content depends on (seed, position).
std::vector<unsigned char> pixels(int w, int h, int comp, int seed) {
  std::vector<unsigned char> px(static_cast<size_t>(w * h * comp));
  for (size_t i = 0; i < px.size(); ++i)
    px[i] = static_cast<unsigned char>((i * 37 + static_cast<size_t>(seed) * 101) % 256);
  return px;
}

/// Writes `px` as `format` (png, jpg, bmp) to path.
void write_image(const std::string& path, const std::string& format, int w, int h, int comp,
                 const std::vector<unsigned char>& px) {
  int ok = 0;
  if (format == "png") ok = stbi_write_png(path.c_str(), w, h, comp, px.data(), w * comp);
  if (format == "jpg") ok = stbi_write_jpg(path.c_str(), w, h, comp, px.data(), 95);
  if (format == "bmp") ok = stbi_write_bmp(path.c_str(), w, h, comp, px.data());
  REQUIRE(ok != 0);
}

/// root/<class>/<i>.<format>: `per_class` images per class.
std::string make_folder(const std::string& name, const std::vector<std::string>& classes, int per_class,
                        const std::string& format, int comp, int w = 8, int h = 6) {
  const std::string root = make_dir(temp_dir() + "/" + name);
  int seed = 0;
  for (const std::string& c : classes) {
    make_dir(root + "/" + c);
    for (int i = 0; i < per_class; ++i, ++seed)
      write_image(root + "/" + c + "/" + std::to_string(i) + "." + format, format, w, h, comp,
                  pixels(w, h, comp, seed));
  }
  return root;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// Every batch of one epoch: the labels in order and the inputs flattened.
template <class Loader>
std::pair<std::vector<int64_t>, std::vector<double>> epoch_contents(Loader& loader) {
  std::vector<int64_t> labels;
  std::vector<double> values;
  for (auto batch : loader) {
    labels.insert(labels.end(), batch.labels.begin(), batch.labels.end());
    for (int64_t i = 0; i < batch.x.numel(); ++i) values.push_back(static_cast<double>(batch.x.data()[i]));
    for (int64_t i = 0; i < batch.size(); ++i) CHECK(batch.y.data()[i] == batch.labels[static_cast<size_t>(i)]);
  }
  return {labels, values};
}

/// A dataset type of the user's own: example i is a 2x2 tensor filled with i, label i % 3,
/// returned as a std::pair.
struct Squares {
  int64_t n;
  int64_t size() const { return n; }
  std::pair<ck::Tensor<double>, int> get(int64_t i) const {
    return {ck::Tensor<double>::full(ck::Shape{2, 2}, static_cast<double>(i)), static_cast<int>(i % 3)};
  }
};

/// A dataset whose example `bad` throws.
struct Faulty {
  int64_t n, bad;
  int64_t size() const { return n; }
  ck::data::Example<float> get(int64_t i) const {
    if (i == bad) throw ck::Error("Faulty: example " + std::to_string(i) + " cannot be read");
    return {ck::Tensor<float>::full(ck::Shape{1, 2, 2}, static_cast<float>(i)), 0};
  }
};

}  // namespace

TEST_CASE("TensorDataset: views of rows, labels, checks, and the loader over it, by CTAD, owned or borrowed") {
  auto x = ck::Tensor<double>::arange(10 * 3).reshape(ck::Shape{10, 3});
  auto y = ck::Tensor<int64_t>::from_vector({0, 1, 2, 0, 1, 2, 0, 1, 2, 0}, ck::Shape{10});
  ck::data::TensorDataset<double> ds(x, y);
  CHECK(ds.size() == 10);
  auto e = ds.get(4);
  CHECK(e.x.shape() == ck::Shape{3});
  CHECK(e.x.to_vector() == std::vector<double>{12, 13, 14});
  CHECK(e.y == 1);
  CHECK(e.x.data() == x.data() + 12);  // a view, not a copy
  CHECK(contains(error_of([&] { ds.get(10); }), "index 10 out of range"));
  CHECK(contains(error_of([&] { ck::data::TensorDataset<double>(x, ck::Tensor<int64_t>::zeros(ck::Shape{9})); }),
                 "y must have shape (10)"));
  CHECK(contains(error_of([&] { ck::data::TensorDataset<double>(x, ck::Tensor<int64_t>::full(ck::Shape{10}, -1)); }),
                 "label -1 at position 0 is negative"));

  ck::data::DataLoader loader(ds, ck::data::DataLoaderOptions().batch_size(4));
  static_assert(std::is_same_v<decltype(loader), ck::data::DataLoader<ck::data::TensorDataset<double>>>);
  CHECK(loader.num_batches() == 3);
  auto [labels, values] = epoch_contents(loader);
  CHECK(labels == y.to_vector());
  CHECK(values == x.to_vector());
  // A temporary dataset is moved into the loader; drop_last leaves out the short batch.
  ck::data::DataLoader<float> owned(ck::data::TensorDataset<double>(x, y),
                                    ck::data::DataLoaderOptions().batch_size(4).drop_last(true));
  CHECK(owned.num_batches() == 2);
  int batches = 0;
  for (auto b : owned) {
    CHECK(b.x.shape() == ck::Shape{4, 3});
    CHECK(b.x.data()[0] == static_cast<float>(12 * batches));
    ++batches;
  }
  CHECK(batches == 2);
  CHECK_THROWS_AS(ck::data::DataLoader<float>(ds, ck::data::DataLoaderOptions().batch_size(0)), ck::Error);
  CHECK_THROWS_AS(ck::data::DataLoader<float>(ds, ck::data::DataLoaderOptions().workers(-1)), ck::Error);
}

TEST_CASE("a user's own dataset type (std::pair examples, int labels) works with the loader") {
  Squares squares{7};
  ck::data::DataLoader<float> loader(squares, ck::data::DataLoaderOptions().batch_size(3).shuffle(true).seed(5));
  std::multiset<int64_t> seen;
  for (auto b : loader) {
    CHECK(b.x.shape()[1] == 2);
    for (int64_t i = 0; i < b.size(); ++i) {
      const auto v = static_cast<int64_t>(b.x.data()[i * 4]);
      CHECK(b.labels[static_cast<size_t>(i)] == v % 3);
      seen.insert(v);
    }
  }
  CHECK(seen == std::multiset<int64_t>{0, 1, 2, 3, 4, 5, 6});
}

TEST_CASE("ImageFolder: classes sorted, labels, PNG / BMP exact, JPEG close, gray and colour conversions") {
  // Gray PNGs in three classes, created out of order.
  const std::string gray = make_folder("gray", {"zebra", "ant", "moth"}, 2, "png", 1);
  write_bytes(gray + "/ant/notes.txt", {'h', 'i'});
  ck::data::ImageFolder<float> set(gray, ck::data::ImageFolderOptions().channels(1));
  CHECK(set.classes() == std::vector<std::string>{"ant", "moth", "zebra"});
  REQUIRE(set.size() == 6);
  CHECK(set.skipped().size() == 1);
  CHECK(set.example_shape() == ck::Shape{1, 6, 8});
  // make_folder wrote zebra first (seeds 0, 1), then ant (2, 3), then moth (4, 5).
  const std::map<int64_t, int> first_seed = {{0, 2}, {1, 4}, {2, 0}};
  for (int64_t i = 0; i < set.size(); ++i) {
    auto e = set.get(i);
    CHECK(e.y == i / 2);
    const auto px = pixels(8, 6, 1, first_seed.at(e.y) + static_cast<int>(i % 2));
    auto v = e.x.to_vector();
    REQUIRE(v.size() == px.size());
    for (size_t k = 0; k < px.size(); ++k) CHECK(v[k] == doctest::Approx(px[k] / 255.0).epsilon(1e-7));
  }
  // The same gray files as RGB: the value replicated in each channel.
  ck::data::ImageFolder<double> rgb_of_gray(gray, ck::data::ImageFolderOptions().channels(3));
  auto e3 = rgb_of_gray.get(0);
  CHECK(e3.x.shape() == ck::Shape{3, 6, 8});
  for (int64_t k = 0; k < 48; ++k) {
    CHECK(e3.x.data()[k] == e3.x.data()[48 + k]);
    CHECK(e3.x.data()[k] == e3.x.data()[96 + k]);
  }

  // Colour BMPs (lossless): RGB exact; gray with PIL's ITU-R 601-2 weights and rounding.
  const std::string colour = make_folder("colour_bmp", {"a", "b"}, 1, "bmp", 3, 5, 4);
  const auto px = pixels(5, 4, 3, 0);
  auto rgb = ck::data::ImageFolder<float>(colour, ck::data::ImageFolderOptions().channels(3)).get(0).x;
  CHECK(rgb.shape() == ck::Shape{3, 4, 5});
  auto g = ck::data::ImageFolder<float>(colour, ck::data::ImageFolderOptions().channels(1)).get(0).x;
  for (int i = 0; i < 20; ++i) {
    const unsigned r = px[static_cast<size_t>(3 * i)], gr = px[static_cast<size_t>(3 * i + 1)],
                   b = px[static_cast<size_t>(3 * i + 2)];
    for (int c = 0; c < 3; ++c) CHECK(rgb.data()[c * 20 + i] == px[static_cast<size_t>(3 * i + c)] / 255.0f);
    const unsigned expected = (r * 299 + gr * 587 + b * 114 + 500) / 1000;  // PIL's L, to within its rounding
    CHECK(std::abs(g.data()[i] * 255.0f - static_cast<float>(expected)) <= 1.0f);
  }

  // JPEG (lossy) in colour: close to the pixels written, and a two-class folder.
  const std::string jpeg = make_folder("colour_jpg", {"cat", "dog"}, 2, "jpg", 3, 16, 16);
  ck::data::ImageFolder<float> jset(jpeg, ck::data::ImageFolderOptions().channels(3));
  CHECK(jset.classes() == std::vector<std::string>{"cat", "dog"});
  CHECK(jset.get(3).y == 1);
  // a smooth image survives JPEG nearly unchanged
  std::vector<unsigned char> smooth(16 * 16 * 3);
  for (int i = 0; i < 16 * 16; ++i)
    for (int c = 0; c < 3; ++c)
      smooth[static_cast<size_t>(3 * i + c)] = static_cast<unsigned char>(60 + 40 * c + (i % 16) * 4);
  write_image(jpeg + "/cat/smooth.jpg", "jpg", 16, 16, 3, smooth);
  auto decoded = ck::data::read_image<float>(jpeg + "/cat/smooth.jpg", 3);
  double worst = 0;
  for (int i = 0; i < 16 * 16; ++i)
    for (int c = 0; c < 3; ++c)
      worst = std::max(worst, std::abs(decoded.data()[c * 256 + i] * 255.0 - smooth[static_cast<size_t>(3 * i + c)]));
  CHECK(worst <= 8);

  // A size resizes every image on load, whatever its own size.
  write_image(gray + "/moth/big.png", "png", 20, 13, 1, pixels(20, 13, 1, 9));
  ck::data::ImageFolder<float> resized(gray, ck::data::ImageFolderOptions().channels(1).size({10, 12}));
  CHECK(resized.size() == 7);
  for (int64_t i = 0; i < resized.size(); ++i) CHECK(resized.get(i).x.shape() == ck::Shape{1, 10, 12});
  ::unlink((gray + "/moth/big.png").c_str());
}

TEST_CASE("the decoder gives Pillow's values (torchvision's loader) for every colour type, JPEG within 2 levels") {
  // tests/interop/make_images_pil.py wrote what Pillow makes of each file.
  std::ifstream in(std::string(CONVKIT_TEST_DATA_DIR) + "/images/pil_values.txt");
  REQUIRE(in.good());
  std::string line;
  int compared = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream row(line);
    std::string name;
    int channels = 0, h = 0, w = 0;
    row >> name >> channels >> h >> w;
    // 16-bit gray PNGs: Pillow clips the values to 255, convkit keeps the high byte (documented).
    if (name == "gray16.png") continue;
    INFO(name, " as ", channels, " channels");
    const auto px = ck::data::read_pixels(std::string(CONVKIT_TEST_DATA_DIR) + "/images/" + name, channels);
    REQUIRE(px.height == h);
    REQUIRE(px.width == w);
    int worst = 0;
    for (unsigned char v : px.values) {
      int expected = -1;
      row >> expected;
      worst = std::max(worst, std::abs(int(v) - expected));
    }
    CHECK(worst == 0);  // JPEGs too: Pillow decodes them with libjpeg-turbo's default IDCT, as convkit does
    ++compared;
  }
  CHECK(compared == 24);
}

TEST_CASE("DataLoader: every example once per epoch, the same batches from the seed with 0, 1 and 3 workers") {
  const std::string root = make_folder("loader", {"c0", "c1", "c2"}, 9, "png", 1, 7, 5);
  ck::data::ImageFolder<float> set(root, ck::data::ImageFolderOptions().channels(1));
  REQUIRE(set.size() == 27);
  using ck::data::transforms::compose;
  using ck::data::transforms::random_crop;
  using ck::data::transforms::random_horizontal_flip;
  std::vector<std::vector<std::pair<std::vector<int64_t>, std::vector<double>>>> runs;
  for (int workers : {0, 1, 3}) {
    ck::data::DataLoader<float> loader(
        set, ck::data::DataLoaderOptions().batch_size(4).shuffle(true).seed(11).workers(workers));
    loader.transform(compose({random_crop(5, 7, 1), random_horizontal_flip()}));
    CHECK(loader.num_batches() == 7);
    std::vector<std::pair<std::vector<int64_t>, std::vector<double>>> epochs;
    for (int epoch = 0; epoch < 3; ++epoch) {
      epochs.push_back(epoch_contents(loader));
      std::multiset<int64_t> order(loader.order().begin(), loader.order().end());
      std::multiset<int64_t> all;
      for (int64_t i = 0; i < 27; ++i) all.insert(i);
      CHECK(order == all);  // every example exactly once
      std::map<int64_t, int> per_label;
      for (int64_t l : epochs.back().first) ++per_label[l];
      CHECK(per_label == std::map<int64_t, int>{{0, 9}, {1, 9}, {2, 9}});
      CHECK(epochs.back().second.size() == 27u * 35u);
    }
    CHECK(epochs[0].first != epochs[1].first);  // reshuffled
    runs.push_back(epochs);
  }
  CHECK(runs[1] == runs[0]);
  CHECK(runs[2] == runs[0]);

  // Leaving an epoch early and starting the next one does not hang; the order still
  // matches a loader that ran every epoch to the end.
  ck::data::DataLoader<float> early(set, ck::data::DataLoaderOptions().batch_size(4).shuffle(true).seed(11).workers(3));
  early.transform(compose({random_crop(5, 7, 1), random_horizontal_flip()}));
  for (auto b : early) {
    (void)b;
    break;
  }
  CHECK(epoch_contents(early) == runs[0][1]);
}

TEST_CASE("ImageFolder's cache: the same values, and later epochs read no file") {
  const std::string root = make_folder("cached", {"x", "y"}, 5, "png", 3, 9, 7);
  ck::data::ImageFolder<float> plain(root, ck::data::ImageFolderOptions().channels(3).size({5, 6}));
  ck::data::ImageFolder<float> cached(root, ck::data::ImageFolderOptions().channels(3).size({5, 6}).cache(true));
  ck::data::DataLoader<float> a(plain, ck::data::DataLoaderOptions().batch_size(3).shuffle(true).seed(2));
  ck::data::DataLoader<float> b(cached, ck::data::DataLoaderOptions().batch_size(3).shuffle(true).seed(2).workers(2));
  CHECK(epoch_contents(a) == epoch_contents(b));
  for (const auto& f : cached.samples()) REQUIRE(::unlink(f.path.c_str()) == 0);
  CHECK(epoch_contents(b).first.size() == 10);  // the files are gone: the cache serves every image
  CHECK(contains(error_of([&] { plain.get(0); }), cached.samples()[0].path));
}

TEST_CASE("transforms: normalize, flip, crop with padding, resize, compose, per batch") {
  ck::Generator gen(0);
  auto x = ck::Tensor<float>::arange(2 * 2 * 3).reshape(ck::Shape{2, 2, 3});  // (C=2, H=2, W=3)
  auto n = ck::data::transforms::normalize({1, 2}, {2, 4})(x, gen);
  CHECK(n.to_vector() == std::vector<float>{-0.5f, 0, 0.5f, 1, 1.5f, 2, 1, 1.25f, 1.5f, 1.75f, 2, 2.25f});
  CHECK(x.data()[0] == 0);  // the input is never written
  auto f = ck::data::transforms::random_horizontal_flip(1.0)(x, gen);
  CHECK(f.to_vector() == std::vector<float>{2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9});
  CHECK(ck::data::transforms::random_horizontal_flip(0.0)(x, gen).to_vector() == x.to_vector());
  // Crop with padding: every window of the zero-padded image appears for some draw.
  std::set<std::vector<float>> windows;
  for (int i = 0; i < 400; ++i) windows.insert(ck::data::transforms::random_crop(2, 3, 1)(x, gen).to_vector());
  CHECK(windows.size() == 3 * 3);  // (2 + 2 - 2 + 1) x (3 + 2 - 3 + 1) positions
  CHECK(windows.count(x.to_vector()) == 1);
  auto r = ck::data::transforms::resize(4, 6)(x, gen);
  CHECK(r.shape() == ck::Shape{2, 4, 6});
  CHECK(r.data()[0] == 0);
  // A batch (B, C, H, W): each image draws its own flip.
  auto batch = ck::Tensor<double>::arange(8 * 2 * 3).reshape(ck::Shape{8, 1, 2, 3});
  auto fb = ck::data::transforms::compose(
      {ck::data::transforms::random_horizontal_flip(0.5), ck::data::transforms::normalize({0}, {1})})(batch, gen);
  int flipped = 0;
  for (int b = 0; b < 8; ++b) flipped += fb.data()[b * 6] != batch.data()[b * 6];
  CHECK(flipped > 0);
  CHECK(flipped < 8);
  CHECK(contains(error_of([&] { ck::data::transforms::normalize({0, 0, 0}, {1, 1, 1})(x, gen); }), "3 means"));
  CHECK(contains(error_of([&] { ck::data::transforms::random_crop(5, 5)(x, gen); }), "does not fit"));
  CHECK(contains(error_of([&] { ck::data::transforms::resize(2, 2)(ck::Tensor<float>::zeros(ck::Shape{4}), gen); }),
                 "expects an image (C, H, W)"));
  CHECK_THROWS_AS(ck::data::transforms::normalize({0}, {0}), ck::Error);

  // Per-batch transforms in the loader.
  auto xs = ck::Tensor<float>::ones(ck::Shape{6, 1, 2, 2});
  ck::data::DataLoader<float> loader(ck::data::TensorDataset<float>(xs, ck::Tensor<int64_t>::zeros(ck::Shape{6})),
                                     ck::data::DataLoaderOptions().batch_size(4));
  loader.batch_transform(ck::data::transforms::normalize({0.5}, {0.25}));
  for (auto b : loader)
    for (float v : b.x.to_vector()) CHECK(v == 2.0f);
}

TEST_CASE("ImageFolder and the loader: bad input gives ck::Error naming the file, in the calling thread") {
  const std::string root = make_folder("bad", {"a", "b"}, 3, "png", 1, 6, 6);
  // no classes, not a folder, an empty class folder
  make_dir(temp_dir() + "/empty_root");
  CHECK(contains(error_of([&] { ck::data::ImageFolder<float>(temp_dir() + "/empty_root"); }), "has no class folders"));
  CHECK(contains(error_of([&] { ck::data::ImageFolder<float>(root + "/a/0.png"); }), "is not a folder"));
  make_dir(root + "/c");
  CHECK(contains(error_of([&] { ck::data::ImageFolder<float> s(root); }), "'" + root + "/c' holds no image"));
  ::rmdir((root + "/c").c_str());
  CHECK_THROWS_AS(ck::data::ImageFolder<float>(root, ck::data::ImageFolderOptions().channels(2)), ck::Error);

  const auto good = read_bytes(root + "/b/1.png");
  auto expect_bad = [&](const std::string& file, const std::vector<unsigned char>& bytes, const std::string& why) {
    write_bytes(root + "/b/1.png", bytes);
    ck::data::ImageFolder<float> set(root, ck::data::ImageFolderOptions().channels(1));
    CHECK(contains(error_of([&] { set.get(4); }), why));
    for (int workers : {0, 1, 3}) {
      ck::data::DataLoader<float> loader(set, ck::data::DataLoaderOptions().batch_size(2).workers(workers));
      const std::string e = error_of([&] {
        for (auto b : loader) CHECK(b.size() == 2);  // the batches before the bad one are whole
      });
      INFO(file, " with ", workers, " workers: ", e);
      CHECK(contains(e, root + "/b/1.png"));
      CHECK(contains(e, why));
    }
    write_bytes(root + "/b/1.png", good);
  };
  expect_bad("truncated PNG",
             std::vector<unsigned char>(good.begin(), good.begin() + static_cast<long>(good.size() / 2)),
             "truncated or corrupt");
  expect_bad("text", {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'}, "is not a PNG, JPEG or BMP image");
  expect_bad("empty", {}, "the file is empty");
  // a truncated BMP, which stb_image alone would decode with zeros
  write_image(temp_dir() + "/whole.bmp", "bmp", 6, 6, 1, pixels(6, 6, 1, 0));
  auto bmp = read_bytes(temp_dir() + "/whole.bmp");
  bmp.resize(bmp.size() - 10);
  expect_bad("truncated BMP", bmp, "truncated BMP");
  // a corrupt JPEG: the entropy-coded data cut off
  write_image(temp_dir() + "/whole.jpg", "jpg", 16, 16, 3, pixels(16, 16, 3, 0));
  auto jpg = read_bytes(temp_dir() + "/whole.jpg");
  jpg.resize(jpg.size() * 2 / 3);
  expect_bad("truncated JPEG", jpg, "truncated or corrupt");
  // a 376-byte JPEG declaring 8464x4096 pixels (found by fuzz_image): a decompression bomb
  write_bytes(root + "/b/1.png", read_bytes(std::string(CONVKIT_TEST_DATA_DIR) + "/images/bomb.jpg"));
  CHECK(contains(error_of([&] { ck::data::read_image<float>(root + "/b/1.png", 1); }),
                 "declares 8464x4096 pixels in a file of 376 bytes"));
  write_bytes(root + "/b/1.png", good);
  // a 144-byte BMP whose unknown compression field stb_image would ignore, decoding 1792x4100
  // pixels of zeros (found by fuzz_image)
  write_bytes(root + "/b/1.png",
              read_bytes(std::string(CONVKIT_TEST_DATA_DIR) + "/images/bmp_unknown_compression.bmp"));
  CHECK(contains(error_of([&] { ck::data::read_image<float>(root + "/b/1.png", 3); }), "BMP compression 2147483648"));
  write_bytes(root + "/b/1.png", good);
  // a JPEG with a malformed Huffman table (found by fuzz_image; stb_image aborts the
  // program on it, libjpeg reports it)
  CHECK(contains(error_of([&] {
                   ck::data::read_image<float>(std::string(CONVKIT_TEST_DATA_DIR) + "/images/jpeg_undefined_table.jpg",
                                               1);
                 }),
                 "cannot be decoded as JPEG (Bogus Huffman table definition)"));
  // a CMYK JPEG (Pillow converts it; convkit refuses it by name)
  CHECK(contains(
      error_of([&] { ck::data::read_image<float>(std::string(CONVKIT_TEST_DATA_DIR) + "/images/cmyk.jpg", 3); }),
      "is a CMYK or YCCK JPEG"));
  // a header declaring a huge image is refused before decoding
  auto huge = good;
  huge[16] = 0, huge[17] = 1, huge[18] = 0x86, huge[19] = 0xA0;  // IHDR width 100000
  const uLong crc = crc32(0, huge.data() + 12, 17);              // the IHDR chunk's type and data
  for (int b = 0; b < 4; ++b) huge[29 + static_cast<size_t>(b)] = static_cast<unsigned char>(crc >> (24 - 8 * b));
  expect_bad("huge", huge, "above the limit");

  // An unreadable file: a link to nothing.
  ::unlink((root + "/b/1.png").c_str());
  REQUIRE(::symlink((root + "/nowhere.png").c_str(), (root + "/b/1.png").c_str()) == 0);
  ck::data::ImageFolder<float> dangling(root, ck::data::ImageFolderOptions().channels(1));
  CHECK(contains(error_of([&] { dangling.get(4); }), root + "/b/1.png"));
  ::unlink((root + "/b/1.png").c_str());
  write_bytes(root + "/b/1.png", good);

  // Mixed sizes without a size option: the odd file is named.
  write_image(root + "/b/2.png", "png", 7, 6, 1, pixels(7, 6, 1, 3));
  ck::data::ImageFolder<float> mixed(root, ck::data::ImageFolderOptions().channels(1));
  const std::string e = error_of([&] { mixed.get(5); });
  CHECK(contains(e, root + "/b/2.png' is 7x6 pixels"));
  CHECK(contains(e, "size({h, w})"));
  // Examples of different shapes from a user's dataset: the loader names both.
  auto xs = ck::Tensor<float>::zeros(ck::Shape{4, 3});
  ck::data::DataLoader<float> loader(Squares{4}, ck::data::DataLoaderOptions().batch_size(4));
  loader.transform([](const auto& x, ck::Generator&) {
    using U = typename std::decay_t<decltype(x)>::value_type;
    return x.data()[0] == 2 ? ck::Tensor<U>::zeros(ck::Shape{3}) : x;
  });
  const std::string shapes = error_of([&] { loader.make_batch(0); });
  INFO(shapes);
  CHECK(contains(shapes, "example #2 has shape (3,) but example #0 in the same batch has (2, 2)"));

  // A user's dataset that throws, with workers: the error reaches this thread, and the
  // loader can start another epoch afterwards.
  ck::data::DataLoader<float> faulty(Faulty{20, 13}, ck::data::DataLoaderOptions().batch_size(4).workers(3));
  for (int epoch = 0; epoch < 2; ++epoch) {
    int whole = 0;
    const std::string f = error_of([&] {
      for (auto b : faulty) whole += b.size() == 4;
    });
    CHECK(contains(f, "Faulty: example 13 cannot be read"));
    CHECK(whole == 3);
  }
}

TEST_CASE("training on a generated ImageFolder: the loss goes down (workers 2, transforms)") {
  // Class k's images are bright in column band k.
  const std::string root = make_dir(temp_dir() + "/learn");
  for (int k = 0; k < 3; ++k) {
    make_dir(root + "/class" + std::to_string(k));
    for (int i = 0; i < 20; ++i) {
      std::vector<unsigned char> px(12 * 12);
      for (int r = 0; r < 12; ++r)
        for (int c = 0; c < 12; ++c)
          px[static_cast<size_t>(r * 12 + c)] =
              static_cast<unsigned char>((c / 4 == k ? 180 : 20) + (i * 7 + r * 3 + c) % 50);
      write_image(root + "/class" + std::to_string(k) + "/" + std::to_string(i) + ".png", "png", 12, 12, 1, px);
    }
  }
  ck::data::ImageFolder<float> set(root, ck::data::ImageFolderOptions().channels(1));
  ck::data::DataLoader<float> loader(set,
                                     ck::data::DataLoaderOptions().batch_size(10).shuffle(true).seed(3).workers(2));
  loader.transform(ck::data::transforms::normalize({0.3}, {0.3}));
  ck::manual_seed(0);
  ck::nn::Sequential<float> net(ck::nn::Conv2d<float>(1, 4, 3, ck::Conv2dOptions().padding(1)), ck::nn::ReLU<float>(),
                                ck::nn::Flatten<float>(), ck::nn::Linear<float>(4 * 12 * 12, 3));
  ck::optim::SGD<float> opt(net.parameters(), ck::optim::SGDOptions(0.05));
  double first = 0, last = 0;
  for (int epoch = 0; epoch < 6; ++epoch) {
    double total = 0;
    for (auto batch : loader) {
      auto loss = ck::cross_entropy(net(batch.x), batch.y);
      opt.zero_grad();
      loss.backward();
      opt.step();
      total += loss.item();
    }
    if (epoch == 0) first = total;
    last = total;
  }
  INFO("first epoch loss ", first, ", last ", last);
  CHECK(last < 0.3 * first);
}
