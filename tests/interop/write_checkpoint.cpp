// Writes a LeNet checkpoint and a text dump of the same values, for the Python check
// (tests/interop/check_safetensors.py) that reads the checkpoint with the official
// safetensors package.
#include <convkit/convkit.hpp>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: write_checkpoint OUT.safetensors OUT.txt\n");
    return 2;
  }
  ck::Generator gen(2024);
  auto net = ck::models::lenet<float>(gen);
  ck::io::save(net, argv[1]);
  std::FILE* f = std::fopen(argv[2], "w");
  if (!f) return 1;
  for (const auto& [name, t] : net.named_parameters()) {
    std::fprintf(f, "%s", name.c_str());
    std::fprintf(f, " %lld", static_cast<long long>(t.dim()));
    for (int64_t d = 0; d < t.dim(); ++d) std::fprintf(f, " %lld", static_cast<long long>(t.size(static_cast<int>(d))));
    for (float v : t.to_vector()) std::fprintf(f, " %.9g", static_cast<double>(v));
    std::fprintf(f, "\n");
  }
  return std::fclose(f) == 0 ? 0 : 1;
}
