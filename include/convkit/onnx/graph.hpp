#pragma once
// The ONNX graph a module writes itself into (nn::Module::to_onnx), and the ONNX message
// numbers both directions use (onnx.proto: ModelProto, GraphProto, NodeProto,
// AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto).
#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/tensor.hpp"
#include "../io/protobuf.hpp"
#include "../ops/options.hpp"

namespace convkit::onnx {

/// The IR version and operator set convkit writes (and the oldest opset it reads).
inline constexpr int64_t kIrVersion = 8;
inline constexpr int64_t kOpset = 17;

/// TensorProto.DataType values convkit reads or writes.
enum DataType : int64_t { kFloat = 1, kInt32 = 6, kInt64 = 7, kDouble = 11 };
/// AttributeProto.AttributeType values.
enum AttributeType : int64_t {
  kAttrFloat = 1,
  kAttrInt = 2,
  kAttrString = 3,
  kAttrTensor = 4,
  kAttrFloats = 6,
  kAttrInts = 7
};

/// The ONNX element type of T.
template <class T>
constexpr int64_t data_type() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "ONNX export: float or double tensors");
  return std::is_same_v<T, float> ? kFloat : kDouble;
}

/// One node attribute, as written.
struct Attribute {
  std::string name;           ///< e.g. "strides"
  int64_t type = kAttrInt;    ///< AttributeType
  int64_t i = 0;              ///< kAttrInt
  float f = 0;                ///< kAttrFloat
  std::vector<int64_t> ints;  ///< kAttrInts
  /// An integer attribute.
  static Attribute integer(std::string name, int64_t v) { return {std::move(name), kAttrInt, v, 0, {}}; }
  /// A float attribute.
  static Attribute real(std::string name, float v) { return {std::move(name), kAttrFloat, 0, v, {}}; }
  /// A list-of-integers attribute.
  static Attribute integers(std::string name, std::vector<int64_t> v) {
    return {std::move(name), kAttrInts, 0, 0, std::move(v)};
  }
};

/// A module's path ("b2.0.") as a node name ("b2.0").
inline std::string node_name(const std::string& prefix) {
  return !prefix.empty() && prefix.back() == '.' ? prefix.substr(0, prefix.size() - 1) : prefix;
}

/// MaxPool's and AveragePool's common attributes.
inline std::vector<Attribute> pool_attributes(const Pool2dOptions& o) {
  return {Attribute::integers("kernel_shape", {o.kernel_size().h, o.kernel_size().w}),
          Attribute::integers("strides", {o.stride().h, o.stride().w}),
          Attribute::integers("pads", {o.padding().h, o.padding().w, o.padding().h, o.padding().w}),
          Attribute::integer("ceil_mode", o.ceil_mode() ? 1 : 0)};
}

/// A TensorProto holding `t` (raw little-endian data) named `name`.
template <class T>
io::protobuf::Writer tensor_proto(const std::string& name, const Tensor<T>& t) {
  io::protobuf::Writer w;
  for (int64_t d : t.shape()) w.varint(1, static_cast<uint64_t>(d));
  w.varint(2, static_cast<uint64_t>(data_type<T>()));
  w.bytes(8, name);
  const std::vector<T> values = t.to_vector();
  w.bytes(9, std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
  return w;
}

/// The graph a module writes itself into: nodes in execution order and the weights as
/// initializers, named as the module's parameters and buffers are (state_dict names).
template <class T>
class GraphWriter {
 public:
  /// Adds a node of `op` reading `inputs`; returns the name of its (one) output, derived
  /// from `name` (the module path, e.g. "b2.0.conv1") so the graph reads like the model.
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const std::string& name,
                   const std::vector<Attribute>& attributes = {}) {
    const std::string node_name = unique((name.empty() ? op : name + "." + op));
    std::string output = node_name + ".out";
    io::protobuf::Writer n;
    for (const std::string& in : inputs) n.bytes(1, in);
    n.bytes(2, output);
    n.bytes(3, node_name);
    n.bytes(4, op);
    for (const Attribute& a : attributes) {
      io::protobuf::Writer w;
      w.bytes(1, a.name);
      w.varint(20, static_cast<uint64_t>(a.type));
      if (a.type == kAttrInt) w.varint(3, static_cast<uint64_t>(a.i));
      if (a.type == kAttrFloat) w.fixed32(2, a.f);
      if (a.type == kAttrInts) w.packed_varints(8, a.ints);
      n.message(5, w);
    }
    graph_.message(1, n);
    return output;
  }
  /// Adds `t` as an initializer named `name` and returns the name.
  std::string initializer(const std::string& name, const Tensor<T>& t) {
    CK_CHECK(t.defined(), "onnx::save: the initializer '", name, "' is an undefined tensor");
    graph_.message(5, tensor_proto(name, t));
    return name;
  }
  /// The GraphProto so far (nodes and initializers).
  io::protobuf::Writer& proto() { return graph_; }

 private:
  std::string unique(const std::string& base) {
    std::string name = base;
    for (int k = 1; !used_.insert(name).second; ++k) name = base + "_" + std::to_string(k);
    return name;
  }
  io::protobuf::Writer graph_;
  std::set<std::string> used_;
};

}  // namespace convkit::onnx
