// Writes a small ImageFolder for the README's data example: ROOT/<class>/<i>.png, two
// classes of 32 gray 28x28 images each (class k is bright in the left or the right half).
//   make_image_folder ROOT
#include <stb/stb_image_write.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_image_folder ROOT\n");
    return 2;
  }
  const std::string root = argv[1];
  ::mkdir(root.c_str(), 0755);
  for (int k = 0; k < 2; ++k) {
    const std::string dir = root + (k == 0 ? "/left" : "/right");
    ::mkdir(dir.c_str(), 0755);
    for (int i = 0; i < 32; ++i) {
      std::vector<unsigned char> px(28 * 28);
      for (int r = 0; r < 28; ++r)
        for (int c = 0; c < 28; ++c) px[r * 28 + c] = static_cast<unsigned char>(((c < 14) == (k == 0) ? 200 : 30) + i);
      const std::string path = dir + "/" + std::to_string(i) + ".png";
      if (!stbi_write_png(path.c_str(), 28, 28, 1, px.data(), 28)) {
        std::fprintf(stderr, "make_image_folder: cannot write %s\n", path.c_str());
        return 1;
      }
    }
  }
  return 0;
}
