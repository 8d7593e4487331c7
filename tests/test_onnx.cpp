// ONNX: protobuf's wire format, every model of ck::models exported and read back
// (bit-identical outputs), networks exported by PyTorch read and run (tests/data/onnx,
// written by tests/interop/make_onnx_torch.py), and hostile files.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <convkit/convkit.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "model_cases.hpp"
#include "test_util.hpp"

namespace {

std::string temp_dir() { return test_temp_dir("onnx"); }

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size()));
}

/// Batch norm's statistics and affine parameters drawn at random, so an export that
/// ignored them would show.
void randomize_batch_norm(ck::nn::Module<float>& net, ck::Generator& gen) {
  ck::NoGradGuard no_grad;
  for (auto& [name, t] : net.named_buffers()) {
    if (contains(name, "running_mean")) t.copy_(ck::Tensor<float>::uniform(t.shape(), -0.2f, 0.2f, gen));
    if (contains(name, "running_var")) t.copy_(ck::Tensor<float>::uniform(t.shape(), 0.5f, 1.5f, gen));
  }
}

std::string load_error(const std::string& bytes) {
  const std::string path = temp_dir() + "/hostile.onnx";
  write_bytes(path, bytes);
  return error_of([&] { ck::onnx::load<float>(path); });
}

/// A minimal model: `nodes` (NodeProtos) between graph input "x" and output `output`.
std::string model_bytes(const std::vector<ck::io::protobuf::Writer>& nodes, const std::string& output,
                        int64_t opset = 17) {
  ck::io::protobuf::Writer graph;
  for (const auto& n : nodes) graph.message(1, n);
  ck::io::protobuf::Writer in, out;
  in.bytes(1, "x");
  out.bytes(1, output);
  graph.message(11, in);
  graph.message(12, out);
  ck::io::protobuf::Writer set;
  set.varint(2, static_cast<uint64_t>(opset));
  ck::io::protobuf::Writer model;
  model.varint(1, 8);
  model.message(7, graph);
  model.message(8, set);
  return model.bytes();
}

ck::io::protobuf::Writer node(const std::string& op, const std::vector<std::string>& in, const std::string& out) {
  ck::io::protobuf::Writer n;
  for (const auto& i : in) n.bytes(1, i);
  n.bytes(2, out);
  n.bytes(3, op + "_node");
  n.bytes(4, op);
  return n;
}

}  // namespace

TEST_CASE("protobuf: fields written and read back, and hostile encodings refused with the offset") {
  namespace pb = ck::io::protobuf;
  pb::Writer inner;
  inner.varint(1, 300).fixed32(2, 1.5f).bytes(3, "abc").packed_varints(4, {1, -1, 1 << 20});
  pb::Writer outer;
  outer.message(7, inner).varint(2, UINT64_MAX);
  const std::string bytes = outer.bytes();
  pb::Reader r(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), "test");
  pb::Field f;
  REQUIRE(r.next(f));
  CHECK(f.number == 7);
  pb::Reader m = r.nested(f);
  pb::Field g;
  REQUIRE(m.next(g));
  CHECK(m.int64(g) == 300);
  REQUIRE(m.next(g));
  CHECK(m.float32(g) == 1.5f);
  REQUIRE(m.next(g));
  CHECK(m.string(g) == "abc");
  REQUIRE(m.next(g));
  std::vector<int64_t> ints;
  m.int64s(g, ints);
  CHECK(ints == std::vector<int64_t>{1, -1, 1 << 20});
  CHECK_FALSE(m.next(g));
  REQUIRE(r.next(f));
  CHECK(f.value == UINT64_MAX);
  CHECK_FALSE(r.next(f));

  auto error = [](const std::string& b) {
    return error_of([&] {
      pb::Reader h(reinterpret_cast<const unsigned char*>(b.data()), b.size(), "hostile");
      pb::Field x;
      while (h.next(x)) {
      }
    });
  };
  CHECK(contains(error(std::string("\x08\x80", 2)), "runs past the end"));  // cut varint
  CHECK(contains(error(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11)), "overflows 64 bits"));
  CHECK(contains(error(std::string("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 12)), "overflows 64 bits"));
  CHECK(contains(error(std::string("\x0a\x05"
                                   "ab",
                                   4)),
                 "declares 5 bytes but only 2 are left"));
  CHECK(contains(error(std::string("\x0b", 1)), "wire type 3"));                // a group
  CHECK(contains(error(std::string("\x0d\x01\x02", 3)), "runs past the end"));  // cut fixed32
  // nesting: 40 levels of field 1 messages
  std::string deep = "x";
  for (int i = 0; i < 40; ++i) {
    pb::Writer w;
    w.bytes(1, deep);
    deep = w.bytes();
  }
  const std::string nested_error = error_of([&] {
    std::function<void(const pb::Reader&)> walk = [&](const pb::Reader& at) {
      pb::Reader copy = at;
      pb::Field x;
      while (copy.next(x))
        if (x.wire == pb::Wire::Bytes) walk(copy.nested(x));
    };
    walk(pb::Reader(reinterpret_cast<const unsigned char*>(deep.data()), deep.size(), "deep"));
  });
  CHECK(contains(nested_error, "nested deeper than 32"));
}

TEST_CASE("ONNX round trip: every model of ck::models exported and read back gives bit-identical outputs") {
  for (const ModelCase& c : model_cases()) {
    INFO(c.name);
    ck::Generator gen(7);
    auto net = c.make(gen);
    randomize_batch_norm(net, gen);
    net.eval();
    const std::string path = temp_dir() + "/" + c.name + ".onnx";
    ck::onnx::save(net, ck::Shape{1, 1, c.side, c.side}, path);
    auto back = ck::onnx::load<float>(path);
    back->eval();
    const auto x = ck::Tensor<float>::uniform({2, 1, c.side, c.side}, 0.f, 1.f, gen);
    ck::NoGradGuard no_grad;
    CHECK(net(x).to_vector() == (*back)(x).to_vector());
    // the weights keep their state_dict names
    const auto names = back->named_parameters();
    const auto originals = net.named_parameters();
    CHECK(names.size() == originals.size());
    for (const auto& original : originals) {  // (no structured binding: Clang 14 cannot capture one in CHECK_MESSAGE)
      bool found = false;
      for (const auto& [n, u] : names)
        found = found || (n == original.first && u.to_vector() == original.second.to_vector());
      CHECK_MESSAGE(found, original.first);
    }
    // and a second export of the loaded module reads back the same
    ck::onnx::save(*back, ck::Shape{1, 1, c.side, c.side}, path);
    CHECK(ck::onnx::load<float>(path)->forward(x).to_vector() == net(x).to_vector());
    ::unlink(path.c_str());
  }
}

TEST_CASE("ONNX import: the d2l LeNet, a ResNet block network and every operator, as PyTorch exported them") {
  // CONVKIT_ONNX_DATA: a folder of files make_onnx_torch.py has just written (ctest sets it
  // when torch is installed); otherwise the checked-in ones.
  const char* fresh = std::getenv("CONVKIT_ONNX_DATA");
  const std::string folder = fresh ? fresh : std::string(CONVKIT_TEST_DATA_DIR) + "/onnx";
  for (const char* name : {"lenet", "resblock", "everything"}) {
    INFO(name);
    const std::string base = folder + "/" + name;
    auto net = ck::onnx::load<float>(base + ".onnx");
    net->eval();
    const auto stored = ck::io::load_safetensors(base + ".safetensors");
    const auto x = stored.at("input").as<float>();
    const auto want = stored.at("output").as<float>().to_vector();
    const auto got = (*net)(x).to_vector();
    REQUIRE(got.size() == want.size());
    double worst = 0, largest = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::fabs(double(got[i]) - double(want[i])));
      largest = std::max(largest, std::fabs(double(want[i])));
    }
    CHECK(worst <= 1e-4 * largest);
    // the imported network trains: its weights are parameters
    net->train();
    auto loss = ck::cross_entropy((*net)(x), std::vector<int64_t>(static_cast<size_t>(x.size(0)), 1));
    loss.backward();
    for (const auto& p : net->parameters()) CHECK(p.grad().defined());
  }
}

TEST_CASE("ONNX: what cannot be expressed or read is a ck::Error naming it") {
  // export
  ck::nn::Sequential<float> adaptive(ck::nn::Conv2d<float>(1, 2, 3), ck::nn::AdaptiveAvgPool2d<float>({2, 2}));
  CHECK(contains(error_of([&] {
                   ck::onnx::save(adaptive, ck::Shape{1, 1, 8, 8}, temp_dir() + "/a.onnx");
                 }),
                 "AdaptiveAvgPool2d(output_size=(2, 2)) at '1."));
  ck::nn::Sequential<float> no_stats(ck::nn::BatchNorm2d<float>(1, ck::BatchNormOptions().track_running_stats(false)));
  CHECK(contains(error_of([&] {
                   ck::onnx::save(no_stats, ck::Shape{1, 1, 4, 4}, temp_dir() + "/b.onnx");
                 }),
                 "keeps no running statistics"));
  struct Custom : ck::nn::Cloneable<Custom, float> {
    ck::Tensor<float> forward(const ck::Tensor<float>& x) override { return x * 2.f; }
    std::string repr() const override { return "Custom()"; }
  };
  ck::nn::Sequential<float> custom{ck::nn::ReLU<float>(), Custom()};
  CHECK(contains(error_of([&] {
                   ck::onnx::save(custom, ck::Shape{1, 3}, temp_dir() + "/c.onnx");
                 }),
                 "Custom() at '1.' has no ONNX form"));
  CHECK(::access((temp_dir() + "/c.onnx").c_str(), F_OK) != 0);  // nothing written
  CHECK(contains(error_of([&] {
                   ck::onnx::save(ck::models::lenet<float>(), ck::Shape{1, 1, 28, 28}, "/nonexistent/dir/x.onnx");
                 }),
                 "cannot create"));

  // import: an unknown operator, an unknown attribute, an undefined input, not a model
  CHECK(contains(load_error(model_bytes({node("Softmax", {"x"}, "y")}, "y")),
                 "node 'Softmax_node' is a Softmax, which convkit does not run"));
  auto same = node("Conv", {"x", "w"}, "y");
  ck::io::protobuf::Writer attr;
  attr.bytes(1, "auto_pad").varint(20, 3).bytes(4, "SAME_UPPER");
  same.message(5, attr);
  ck::io::protobuf::Writer unknown;
  unknown.bytes(1, "bogus").varint(20, 2).varint(3, 1);
  auto with_unknown = node("Relu", {"x"}, "y");
  with_unknown.message(5, unknown);
  CHECK(contains(load_error(model_bytes({with_unknown}, "y")), "has the attribute 'bogus'"));
  CHECK(contains(load_error(model_bytes({same}, "y")), "reads 'w', which no earlier node or initializer defines"));
  CHECK(contains(load_error(model_bytes({node("Relu", {"x"}, "y")}, "z")), "no node computes the output 'z'"));
  CHECK(contains(load_error(model_bytes({node("Relu", {"x"}, "y")}, "y", 5)), "opset 5"));
  INFO(load_error("not an onnx file at all"));
  CHECK(contains(load_error("not an onnx file at all"), "hostile.onnx"));
  CHECK(contains(load_error(""), "holds no graph"));
  // a real model cut short, and one with a length field past the end
  const auto lenet = read_bytes(std::string(CONVKIT_TEST_DATA_DIR) + "/onnx/lenet.onnx");
  for (size_t cut : {lenet.size() / 3, lenet.size() - 7}) {
    const std::string e = load_error(std::string(lenet.begin(), lenet.begin() + static_cast<long>(cut)));
    INFO(e);
    CHECK((contains(e, "onnx::load") || contains(e, "protobuf")));
  }
  CHECK(contains(error_of([&] { ck::onnx::load<float>(temp_dir()); }), "not a regular file"));
}
