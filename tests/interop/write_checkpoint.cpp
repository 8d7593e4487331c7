// Writes a BN-LeNet checkpoint after one training step (parameters and buffers, the batch
// count as int64, and a metadata entry with a quote and a newline) and a text dump of the same values, for the Python
// check (tests/interop/check_safetensors.py) that reads the checkpoint with the official safetensors package.
#include <convkit/convkit.hpp>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: write_checkpoint OUT.safetensors OUT.txt\n");
    return 2;
  }
  ck::Generator gen(2024);
  auto net = ck::models::lenet_bn<float>(10, gen);
  ck::optim::SGD<float> opt(net.parameters(), 0.1);
  const auto x = ck::Tensor<float>::uniform({8, 1, 28, 28}, 0.f, 1.f, gen);
  const auto loss = ck::cross_entropy(net(x), std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
  loss.backward();
  opt.step();
  ck::io::save(net, argv[1], {{"convkit.note", "one \"step\"\nof SGD"}});
  std::FILE* f = std::fopen(argv[2], "w");
  if (!f) return 1;
  for (const auto& entry : net.state()) {
    const auto& t = entry.tensor;
    std::fprintf(f, "%s %s", entry.name.c_str(), entry.integer ? "int64" : "float32");
    std::fprintf(f, " %lld", static_cast<long long>(t.dim()));
    for (int64_t d = 0; d < t.dim(); ++d) std::fprintf(f, " %lld", static_cast<long long>(t.size(static_cast<int>(d))));
    for (float v : t.to_vector()) std::fprintf(f, " %.9g", static_cast<double>(v));
    std::fprintf(f, "\n");
  }
  return std::fclose(f) == 0 ? 0 : 1;
}
