// Writes MNIST or Fashion-MNIST (the IDX files) as folders of image files, the layout of
// torchvision's ImageFolder and of ck::data::ImageFolder: OUT/train/<k>_<class>/<i>.png and
// OUT/test/..., the class folders numbered so that sorting them keeps the labels.
//
//   export_images [--data DIR] --out OUT [--format png|jpg|bmp] [--limit N]
//   train --model lenet --data OUT --format folder
#include <stb/stb_image_write.h>
#include <sys/stat.h>

#include <algorithm>
#include <convkit/convkit.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "training.hpp"

namespace {

struct Args {
  std::string data = ck::data::default_fashion_mnist_dir(), out, format = "png";
  int64_t limit = 0;
};

[[noreturn]] void usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "export_images: %s\n\n", error.c_str());
  std::fprintf(stderr,
               "usage: export_images --out OUT [--data DIR] [--format png|jpg|bmp] [--limit N]\n"
               "  --data DIR     the four IDX files (default %s)\n"
               "  --out OUT      writes OUT/train/<k>_<class>/<i>.<format> and OUT/test/...\n"
               "  --format F     png (default; lossless), jpg (quality 95) or bmp\n"
               "  --limit N      at most N images of each split\n",
               ck::data::default_fashion_mnist_dir());
  std::exit(error.empty() ? 0 : 2);
}

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    throw ck::Error(ck::detail::cat("export_images: cannot create the folder '", path, "'"));
}

/// Writes one split; returns the number of files.
int64_t export_split(const ck::data::MnistDataset& set, const std::string& dir, const Args& args) {
  make_dir(dir);
  std::vector<std::string> folders;
  for (size_t k = 0; k < set.class_names().size(); ++k) {
    std::string name = set.class_names()[k];
    std::replace(name.begin(), name.end(), ' ', '-');
    folders.push_back(dir + "/" + std::to_string(k) + "_" + name);
    make_dir(folders.back());
  }
  const int64_t n = args.limit > 0 ? std::min(args.limit, set.size()) : set.size();
  const auto h = static_cast<int>(set.images().size(2)), w = static_cast<int>(set.images().size(3));
  std::vector<unsigned char> px(static_cast<size_t>(h * w));
  ck::util::ProgressBar bar(n, dir);
  for (int64_t i = 0; i < n; ++i) {
    const float* image = set.images().data() + i * h * w;
    for (size_t p = 0; p < px.size(); ++p) px[p] = static_cast<unsigned char>(image[p] * 255.0f + 0.5f);
    const std::string path = folders[static_cast<size_t>(set.labels()[static_cast<size_t>(i)])] + "/" +
                             std::to_string(i) + "." + args.format;
    int ok = 0;
    if (args.format == "png") ok = stbi_write_png(path.c_str(), w, h, 1, px.data(), w);
    if (args.format == "jpg") ok = stbi_write_jpg(path.c_str(), w, h, 1, px.data(), 95);
    if (args.format == "bmp") ok = stbi_write_bmp(path.c_str(), w, h, 1, px.data());
    if (!ok) throw ck::Error(ck::detail::cat("export_images: cannot write '", path, "'"));
    if ((i + 1) % 1000 == 0 || i + 1 == n) bar.update(i + 1, "");
  }
  bar.finish();
  return n;
}

}  // namespace

int main(int argc, char** argv) try {
  Args args;
  examples::parse_options(argc, argv,
                          {{"--data", [&](const std::string& v) { args.data = v; }},
                           {"--out", [&](const std::string& v) { args.out = v; }},
                           {"--format", [&](const std::string& v) { args.format = v; }},
                           {"--limit", [&](const std::string& v) { args.limit = std::stoll(v); }}},
                          usage);
  if (args.out.empty()) usage("--out is required");
  if (args.format != "png" && args.format != "jpg" && args.format != "bmp") usage("--format must be png, jpg or bmp");
  if (args.limit < 0) usage("--limit must be positive");
  make_dir(args.out);
  const int64_t train =
      export_split(ck::data::MnistDataset(args.data, ck::data::Split::Train), args.out + "/train", args);
  const int64_t test = export_split(ck::data::MnistDataset(args.data, ck::data::Split::Test), args.out + "/test", args);
  std::printf("wrote %lld training and %lld test images as %s under %s\n", static_cast<long long>(train),
              static_cast<long long>(test), args.format.c_str(), args.out.c_str());
  return 0;
} catch (const ck::Error& e) {
  std::fprintf(stderr, "export_images: %s\n", e.what());
  return 1;
}
