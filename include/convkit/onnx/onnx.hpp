#pragma once
// ONNX both ways. onnx::save writes a module's evaluation-mode network (each module writes
// itself through nn::Module::to_onnx); onnx::load reads an ONNX file into an OnnxModule
// that runs its nodes on convkit's ops (CPU or CUDA, differentiable). The operators and
// attributes read are listed in docs/onnx.md; anything else is a ck::Error naming the node.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../io/file.hpp"
#include "../io/protobuf.hpp"
#include "../nn/module.hpp"
#include "../ops.hpp"
#include "../version.hpp"
#include "graph.hpp"

namespace convkit::onnx {

namespace detail {

/// A ValueInfoProto: `name`, a tensor of `elem_type` with `dims` (-1: the batch, "N").
inline io::protobuf::Writer value_info(const std::string& name, int64_t elem_type, const std::vector<int64_t>& dims,
                                       bool with_shape = true) {
  io::protobuf::Writer tensor_type;
  tensor_type.varint(1, static_cast<uint64_t>(elem_type));
  if (with_shape) {
    io::protobuf::Writer shape;
    for (int64_t d : dims) {
      io::protobuf::Writer dim;
      if (d < 0) {
        dim.bytes(2, "N");
      } else {
        dim.varint(1, static_cast<uint64_t>(d));
      }
      shape.message(1, dim);
    }
    tensor_type.message(2, shape);
  }
  io::protobuf::Writer type;
  type.message(1, tensor_type);
  io::protobuf::Writer info;
  info.bytes(1, name);
  info.message(2, type);
  return info;
}

}  // namespace detail

/// Writes `model`'s evaluation-mode network (batch norm with its running statistics,
/// dropout as the identity) to `path` as ONNX (IR 8, opset 17), atomically. The graph's
/// input "input" has `input_shape` with a free batch dimension ("N"); weights are
/// initializers named as the model's state_dict. A module without an ONNX form throws
/// ck::Error naming it, and nothing is written.
template <class T>
void save(const nn::Module<T>& model, const Shape& input_shape, const std::string& path) {
  CK_CHECK(input_shape.rank() >= 2, "onnx::save: the input shape ", input_shape.str(),
           " needs a batch and at least one more dimension");
  for (int64_t d : input_shape) CK_CHECK(d > 0, "onnx::save: the input shape ", input_shape.str(), " must be positive");
  GraphWriter<T> g;
  const std::string output = model.to_onnx(g, "input", "");
  CK_CHECK(output != "input", "onnx::save: the model computes nothing (an empty Sequential?)");
  std::vector<int64_t> dims(input_shape.begin(), input_shape.end());
  dims[0] = -1;
  // The output's shape, from one evaluation-mode pass of a copy (which shares the weights
  // but not the mode) over zeros: ONNX's checker wants it.
  std::vector<int64_t> out_dims;
  {
    NoGradGuard no_grad;
    const auto copy = model.clone_shared();
    copy->eval();
    const Tensor<T> y = copy->forward(Tensor<T>::zeros(input_shape));
    out_dims.assign(y.shape().begin(), y.shape().end());
    CK_CHECK(!out_dims.empty() && out_dims[0] == input_shape[0], "onnx::save: the output ", y.shape().str(),
             " does not keep the batch dimension of the input ", input_shape.str());
    out_dims[0] = -1;
  }
  io::protobuf::Writer& graph = g.proto();
  graph.bytes(2, "convkit");
  graph.message(11, detail::value_info("input", data_type<T>(), dims, true));
  graph.message(12, detail::value_info(output, data_type<T>(), out_dims, true));
  io::protobuf::Writer opset;
  opset.bytes(1, "");
  opset.varint(2, static_cast<uint64_t>(kOpset));
  io::protobuf::Writer model_proto;
  model_proto.varint(1, static_cast<uint64_t>(kIrVersion));
  model_proto.bytes(2, "convkit");
  model_proto.bytes(3, version());
  model_proto.message(7, graph);
  model_proto.message(8, opset);
  io::write_file_atomically(path, "onnx::save", model_proto.bytes());
}

/// A tensor read from the file: float, double or int64 values and their shape.
struct Constant {
  std::vector<int64_t> dims;   ///< the shape
  std::vector<double> values;  ///< FLOAT and DOUBLE data (converted exactly)
  std::vector<int64_t> ints;   ///< INT64 and INT32 data
  bool integer = false;        ///< which of the two holds the data
};

/// One attribute read from the file.
struct ReadAttribute {
  int64_t type = 0;             ///< AttributeType
  int64_t i = 0;                ///< INT
  float f = 0;                  ///< FLOAT
  std::string s;                ///< STRING
  std::vector<int64_t> ints;    ///< INTS
  std::shared_ptr<Constant> t;  ///< TENSOR
};

/// One node read from the file.
struct Node {
  std::string op;                                   ///< the operator, e.g. "Conv"
  std::string name;                                 ///< the node's name
  std::vector<std::string> inputs;                  ///< the values it reads ("" for an absent optional input)
  std::vector<std::string> outputs;                 ///< the values it writes
  std::map<std::string, ReadAttribute> attributes;  ///< by name
};

namespace detail {

inline Constant read_tensor(const io::protobuf::Reader& outer, const io::protobuf::Field& field, std::string* name) {
  io::protobuf::Reader r = outer.nested(field);
  Constant c;
  int64_t type = 0;
  std::vector<float> floats;
  const unsigned char* raw = nullptr;
  size_t raw_size = 0;
  bool external = false;
  io::protobuf::Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1:
        r.int64s(f, c.dims);
        break;
      case 2:
        type = r.int64(f);
        break;
      case 4:
        r.floats(f, floats);
        break;
      case 5:
      case 7:
        r.int64s(f, c.ints);
        break;
      case 8:
        if (name) *name = r.string(f);
        break;
      case 9:
        r.expect(f, io::protobuf::Wire::Bytes, "raw data");
        raw = f.data;
        raw_size = f.size;
        break;
      case 10: {  // double_data, packed or not
        if (f.wire == io::protobuf::Wire::Fixed64) {
          double v = 0;
          std::memcpy(&v, &f.value, 8);
          c.values.push_back(v);
        } else {
          r.expect(f, io::protobuf::Wire::Bytes, "packed doubles");
          CK_CHECK(f.size % 8 == 0, "onnx::load: '", r.what(), "': packed doubles at offset ", f.offset,
                   " are not a multiple of 8 bytes");
          for (size_t i = 0; i < f.size; i += 8) {
            double v = 0;
            std::memcpy(&v, f.data + i, 8);
            c.values.push_back(v);
          }
        }
        break;
      }
      case 14:
        external = r.int64(f) == 1;
        break;
      default:
        break;  // doc strings, segments of other types: not needed
    }
  }
  CK_CHECK(!external, "onnx::load: '", r.what(), "': tensor '", name ? *name : std::string(),
           "' keeps its data in an external file, which convkit does not read");
  int64_t n = 1;
  for (int64_t d : c.dims) {
    CK_CHECK(d >= 0 && d <= (int64_t(1) << 40) && (d == 0 || n <= (int64_t(1) << 40) / d), "onnx::load: '", r.what(),
             "': tensor '", name ? *name : std::string(), "' has an invalid shape");
    n *= d;
  }
  const auto count = static_cast<size_t>(n);
  auto need = [&](size_t have, const char* kind) {
    CK_CHECK(have == count, "onnx::load: '", r.what(), "': tensor '", name ? *name : std::string(), "' of ", count,
             " elements holds ", have, " ", kind);
  };
  if (type == kFloat) {
    if (raw) {
      need(raw_size / 4, "floats");
      CK_CHECK(raw_size % 4 == 0, "onnx::load: '", r.what(), "': float raw data of ", raw_size, " bytes");
      c.values.resize(count);
      for (size_t i = 0; i < count; ++i) {
        float v = 0;
        std::memcpy(&v, raw + 4 * i, 4);
        c.values[i] = v;
      }
    } else {
      need(floats.size(), "floats");
      c.values.assign(floats.begin(), floats.end());
    }
  } else if (type == kDouble) {
    if (raw) {
      CK_CHECK(raw_size % 8 == 0, "onnx::load: '", r.what(), "': double raw data of ", raw_size, " bytes");
      need(raw_size / 8, "doubles");
      c.values.resize(count);
      std::memcpy(c.values.data(), raw, raw_size);
    } else {
      need(c.values.size(), "doubles");
    }
  } else if (type == kInt64 || type == kInt32) {
    c.integer = true;
    if (raw) {
      const size_t width = type == kInt64 ? 8 : 4;
      CK_CHECK(raw_size % width == 0, "onnx::load: '", r.what(), "': integer raw data of ", raw_size, " bytes");
      need(raw_size / width, "integers");
      c.ints.resize(count);
      for (size_t i = 0; i < count; ++i) {
        if (width == 8) {
          std::memcpy(&c.ints[i], raw + 8 * i, 8);
        } else {
          int32_t v = 0;
          std::memcpy(&v, raw + 4 * i, 4);
          c.ints[i] = v;
        }
      }
    } else {
      need(c.ints.size(), "integers");
    }
  } else {
    throw Error(convkit::detail::cat("onnx::load: '", r.what(), "': tensor '", name ? *name : std::string(),
                                     "' has data type ", type,
                                     "; convkit reads FLOAT (1), INT32 (6), INT64 (7) and DOUBLE (11)"));
  }
  return c;
}

inline ReadAttribute read_attribute(const io::protobuf::Reader& outer, const io::protobuf::Field& field,
                                    std::string& name) {
  io::protobuf::Reader r = outer.nested(field);
  ReadAttribute a;
  io::protobuf::Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1:
        name = r.string(f);
        break;
      case 2:
        a.f = r.float32(f);
        break;
      case 3:
        a.i = r.int64(f);
        break;
      case 4:
        a.s = r.string(f);
        break;
      case 5:
        a.t = std::make_shared<Constant>(read_tensor(r, f, nullptr));
        break;
      case 8:
        r.int64s(f, a.ints);
        break;
      case 20:
        a.type = r.int64(f);
        break;
      default:
        break;  // floats, strings, graphs: no operator read here uses them
    }
  }
  return a;
}

inline Node read_node(const io::protobuf::Reader& outer, const io::protobuf::Field& field) {
  io::protobuf::Reader r = outer.nested(field);
  Node n;
  std::string domain;
  io::protobuf::Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1:
        n.inputs.push_back(r.string(f));
        break;
      case 2:
        n.outputs.push_back(r.string(f));
        break;
      case 3:
        n.name = r.string(f);
        break;
      case 4:
        n.op = r.string(f);
        break;
      case 5: {
        std::string name;
        ReadAttribute a = read_attribute(r, f, name);
        n.attributes[name] = std::move(a);
        break;
      }
      case 7:
        domain = r.string(f);
        break;
      default:
        break;
    }
  }
  CK_CHECK(domain.empty() || domain == "ai.onnx", "onnx::load: '", r.what(), "': node '", n.name, "' (", n.op,
           ") is in the domain '", domain, "'; convkit reads the default ONNX domain only");
  return n;
}

inline std::string value_name(const io::protobuf::Reader& outer, const io::protobuf::Field& field) {
  io::protobuf::Reader r = outer.nested(field);
  io::protobuf::Field f;
  std::string name;
  while (r.next(f))
    if (f.number == 1) name = r.string(f);
  return name;
}

}  // namespace detail

/// A network read from an ONNX file: its nodes run in the file's order on convkit's ops.
/// The weights are parameters (batch norm's statistics buffers) named as the file's
/// initializers, so io::save / io::load and optimizers work on it as on any module.
template <class T>
class OnnxModule : public nn::Cloneable<OnnxModule<T>, T> {
 public:
  /// Parses and checks the model in `bytes` (`what` names it in errors).
  OnnxModule(const unsigned char* bytes, size_t size, const std::string& what) : what_(what) {
    io::protobuf::Reader model(bytes, size, what);
    io::protobuf::Field f;
    bool has_graph = false;
    int64_t opset = -1;
    while (model.next(f)) {
      if (f.number == 7) {
        read_graph(model, f);
        has_graph = true;
      } else if (f.number == 8) {
        io::protobuf::Reader o = model.nested(f);
        io::protobuf::Field g;
        std::string domain;
        int64_t v = 0;
        while (o.next(g)) {
          if (g.number == 1) domain = o.string(g);
          if (g.number == 2) v = o.int64(g);
        }
        if (domain.empty() || domain == "ai.onnx") opset = v;
      }
    }
    CK_CHECK(has_graph, "onnx::load: '", what, "' holds no graph (not an ONNX model?)");
    CK_CHECK(opset >= 7, "onnx::load: '", what, "' imports ONNX opset ", opset,
             "; convkit reads opset 7 and later (the operators' current forms)");
    check_graph();
  }

  /// Runs the graph on x (the graph's one input).
  Tensor<T> forward(const Tensor<T>& x) override {
    std::map<std::string, Tensor<T>> values;
    values[input_] = x;
    for (const Node& n : nodes_) run(n, values);
    return values.at(output_);
  }
  std::string repr() const override {
    return convkit::detail::cat("OnnxModule(", nodes_.size(), " nodes from '", what_, "')");
  }
  /// Writes the same nodes and weights (the round trip keeps every name).
  std::string to_onnx(GraphWriter<T>& g, const std::string& input, const std::string& prefix) const override {
    std::map<std::string, std::string> renamed{{input_, input}};
    for (const auto& [name, t] : tensors_) renamed[name] = g.initializer(prefix + name, t);
    for (const Node& n : nodes_) {
      std::vector<std::string> in;
      for (const std::string& i : n.inputs) in.push_back(i.empty() ? i : renamed.at(i));
      std::vector<Attribute> attributes;
      for (const auto& [name, a] : n.attributes) {
        if (a.type == kAttrInt) attributes.push_back(Attribute::integer(name, a.i));
        if (a.type == kAttrFloat) attributes.push_back(Attribute::real(name, a.f));
        if (a.type == kAttrInts) attributes.push_back(Attribute::integers(name, a.ints));
      }
      if (n.op == "Constant" || n.op == "Reshape" || n.op == "Pad")
        throw Error(convkit::detail::cat("onnx::save: node '", n.name, "' (", n.op, ") of ", repr(),
                                         " has no ONNX form here (integer constants are not written back)"));
      renamed[n.outputs[0]] = g.node(n.op, in, prefix + n.name, attributes);
    }
    return renamed.at(output_);
  }
  /// The nodes, in order.
  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  void read_graph(const io::protobuf::Reader& model, const io::protobuf::Field& field) {
    io::protobuf::Reader g = model.nested(field);
    io::protobuf::Field f;
    std::vector<std::string> inputs, outputs;
    while (g.next(f)) {
      if (f.number == 1) nodes_.push_back(detail::read_node(g, f));
      if (f.number == 5) {
        std::string name;
        Constant c = detail::read_tensor(g, f, &name);
        CK_CHECK(!name.empty() && !constants_.count(name), "onnx::load: '", what_,
                 "': an initializer without a name or named twice ('", name, "')");
        constants_[name] = std::move(c);
      }
      if (f.number == 11) inputs.push_back(detail::value_name(g, f));
      if (f.number == 12) outputs.push_back(detail::value_name(g, f));
    }
    std::vector<std::string> real_inputs;
    for (const std::string& i : inputs)
      if (!constants_.count(i)) real_inputs.push_back(i);  // older exporters list initializers as inputs
    CK_CHECK(real_inputs.size() == 1 && outputs.size() == 1, "onnx::load: '", what_, "' has ", real_inputs.size(),
             " inputs and ", outputs.size(), " outputs; convkit reads graphs of one input and one output");
    input_ = real_inputs[0];
    output_ = outputs[0];
  }

  /// Checks every node before anything runs: operator, attributes, inputs defined before
  /// use; turns Constant nodes into constants and float initializers into parameters.
  void check_graph() {
    static const std::map<std::string, std::set<std::string>> supported = {
        {"Conv", {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"}},
        {"Gemm", {"alpha", "beta", "transA", "transB"}},
        {"MatMul", {}},
        {"Add", {}},
        {"MaxPool", {"kernel_shape", "strides", "pads", "dilations", "ceil_mode", "auto_pad", "storage_order"}},
        {"AveragePool", {"kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad", "auto_pad"}},
        {"GlobalAveragePool", {}},
        {"BatchNormalization", {"epsilon", "momentum", "training_mode"}},
        {"Relu", {}},
        {"Sigmoid", {}},
        {"Tanh", {}},
        {"Flatten", {"axis"}},
        {"Reshape", {"allowzero"}},
        {"Pad", {"mode"}},
        {"Concat", {"axis"}},
        {"Dropout", {"seed"}},
        {"Identity", {}},
        {"Constant", {"value"}}};
    std::set<std::string> defined{input_};
    for (const auto& [name, c] : constants_) defined.insert(name);
    std::set<std::string> statistics;
    for (const Node& n : nodes_) {
      const auto it = supported.find(n.op);
      CK_CHECK(it != supported.end(), "onnx::load: '", what_, "': node '", n.name, "' is a ", n.op,
               ", which convkit does not run (docs/onnx.md lists the operators it reads)");
      for (const auto& [name, a] : n.attributes)
        CK_CHECK(it->second.count(name), "onnx::load: '", what_, "': node '", n.name, "' (", n.op,
                 ") has the attribute '", name, "', which convkit does not read");
      for (const std::string& in : n.inputs)
        CK_CHECK(in.empty() || defined.count(in), "onnx::load: '", what_, "': node '", n.name, "' (", n.op, ") reads '",
                 in, "', which no earlier node or initializer defines");
      CK_CHECK(!n.outputs.empty() && !n.outputs[0].empty(), "onnx::load: '", what_, "': node '", n.name,
               "' has no output");
      if (n.op == "Constant") {
        const auto v = n.attributes.find("value");
        CK_CHECK(v != n.attributes.end() && v->second.t, "onnx::load: '", what_, "': Constant node '", n.name,
                 "' has no tensor value");
        constants_[n.outputs[0]] = *v->second.t;
      }
      if (n.op == "BatchNormalization" && n.inputs.size() == 5) {
        statistics.insert(n.inputs[3]);
        statistics.insert(n.inputs[4]);
      }
      defined.insert(n.outputs[0]);  // further outputs (Dropout's mask) stay undefined: reading them fails above
    }
    CK_CHECK(defined.count(output_), "onnx::load: '", what_, "': no node computes the output '", output_, "'");
    for (const auto& [name, c] : constants_) {
      if (c.integer) continue;
      Tensor<T> t = Tensor<T>::empty(Shape(c.dims));
      std::transform(c.values.begin(), c.values.end(), t.data(), [](double v) { return static_cast<T>(v); });
      tensors_.emplace_back(
          name, statistics.count(name) ? this->register_buffer(name, t) : this->register_parameter(name, t));
    }
  }

  const Tensor<T>& tensor(const std::string& name, const std::map<std::string, Tensor<T>>& values) const {
    const auto v = values.find(name);
    if (v != values.end()) return v->second;
    for (const auto& [n, t] : tensors_)
      if (n == name) return t;
    throw Error(convkit::detail::cat("onnx::load: '", what_, "': the value '", name, "' is not a float tensor"));
  }
  static int64_t attr_int(const Node& n, const char* name, int64_t fallback) {
    const auto it = n.attributes.find(name);
    return it == n.attributes.end() ? fallback : it->second.i;
  }
  std::vector<int64_t> attr_ints(const Node& n, const char* name, std::vector<int64_t> fallback) const {
    const auto it = n.attributes.find(name);
    return it == n.attributes.end() ? fallback : it->second.ints;
  }
  /// A 2-D window's attributes (kernel, strides, pads, dilations), checked; the kernel
  /// defaults to `kernel_default` (Conv's weight tells it).
  void window(const Node& n, const std::vector<int64_t>& kernel_default, Pair2& kernel, Pair2& stride, Pair2& pad,
              Pair2& dilation) const {
    const auto a = n.attributes.find("auto_pad");
    CK_CHECK(a == n.attributes.end() || a->second.s == "NOTSET" || a->second.s.empty(), "onnx::load: '", what_,
             "': node '", n.name, "' (", n.op, ") has auto_pad ", a == n.attributes.end() ? "" : a->second.s,
             "; convkit reads explicit pads only");
    const auto k = attr_ints(n, "kernel_shape", kernel_default);
    const auto s = attr_ints(n, "strides", {1, 1});
    const auto p = attr_ints(n, "pads", {0, 0, 0, 0});
    const auto d = attr_ints(n, "dilations", {1, 1});
    CK_CHECK(k.size() == 2 && s.size() == 2 && p.size() == 4 && d.size() == 2, "onnx::load: '", what_, "': node '",
             n.name, "' (", n.op,
             ") is not a 2-D window (kernel_shape, strides, pads, dilations of 2, 2, 4, 2 values)");
    CK_CHECK(p[0] == p[2] && p[1] == p[3], "onnx::load: '", what_, "': node '", n.name, "' (", n.op,
             ") pads its sides unequally (", p[0], ", ", p[1], ", ", p[2], ", ", p[3], ")");
    kernel = Pair2(k[0], k[1]);
    stride = Pair2(s[0], s[1]);
    pad = Pair2(p[0], p[1]);
    dilation = Pair2(d[0], d[1]);
  }

  void run(const Node& n, std::map<std::string, Tensor<T>>& values) const {
    auto in = [&](size_t i) -> const Tensor<T>& {
      CK_CHECK(i < n.inputs.size() && !n.inputs[i].empty(), "onnx::load: '", what_, "': node '", n.name, "' (", n.op,
               ") lacks input ", i);
      return tensor(n.inputs[i], values);
    };
    const bool has3 = n.inputs.size() > 2 && !n.inputs[2].empty();
    Tensor<T> y;
    if (n.op == "Conv") {
      Pair2 k, s, p, d;
      const Tensor<T>& w = in(1);
      CK_CHECK(w.dim() == 4, "onnx::load: '", what_, "': Conv '", n.name, "' has a weight of shape ", w.shape().str(),
               "; convkit runs 2-D convolutions");
      window(n, {w.size(2), w.size(3)}, k, s, p, d);
      y = conv2d(in(0), w, has3 ? in(2) : Tensor<T>(),
                 Conv2dOptions().stride(s).padding(p).dilation(d).groups(attr_int(n, "group", 1)));
    } else if (n.op == "Gemm") {
      const auto alpha = n.attributes.count("alpha") ? n.attributes.at("alpha").f : 1.0f;
      const auto beta = n.attributes.count("beta") ? n.attributes.at("beta").f : 1.0f;
      CK_CHECK(alpha == 1.0f && beta == 1.0f && attr_int(n, "transA", 0) == 0, "onnx::load: '", what_, "': Gemm '",
               n.name, "' has alpha ", alpha, ", beta ", beta, ", transA ", attr_int(n, "transA", 0),
               "; convkit reads x W^T + b and x W + b (alpha = beta = 1, transA = 0)");
      const Tensor<T>& w = in(1);
      y = linear(in(0), attr_int(n, "transB", 0) ? w : w.transpose(), has3 ? in(2) : Tensor<T>());
    } else if (n.op == "MatMul") {
      y = matmul(in(0), in(1));
    } else if (n.op == "Add") {
      y = in(0) + in(1);
    } else if (n.op == "MaxPool" || n.op == "AveragePool") {
      Pair2 k, s, p, d;
      window(n, {}, k, s, p, d);
      CK_CHECK(attr_int(n, "storage_order", 0) == 0, "onnx::load: '", what_, "': MaxPool '", n.name,
               "' asks for column-major indices");
      auto o = Pool2dOptions(k).stride(s).padding(p).dilation(d).ceil_mode(attr_int(n, "ceil_mode", 0) != 0);
      if (n.op == "MaxPool") {
        y = max_pool2d(in(0), o);
      } else {
        y = avg_pool2d(in(0), o.count_include_pad(attr_int(n, "count_include_pad", 0) != 0));
      }
    } else if (n.op == "GlobalAveragePool") {
      y = adaptive_avg_pool2d(in(0), {1, 1});
    } else if (n.op == "BatchNormalization") {
      CK_CHECK(attr_int(n, "training_mode", 0) == 0, "onnx::load: '", what_, "': BatchNormalization '", n.name,
               "' is in training mode");
      const double eps = n.attributes.count("epsilon") ? n.attributes.at("epsilon").f : 1e-5;
      Tensor<T> mean = in(3), var = in(4);
      y = batch_norm(in(0), mean, var, in(1), in(2), false, 0.1, eps);
    } else if (n.op == "Relu") {
      y = relu(in(0));
    } else if (n.op == "Sigmoid") {
      y = sigmoid(in(0));
    } else if (n.op == "Tanh") {
      y = tanh(in(0));
    } else if (n.op == "Flatten") {
      const Tensor<T>& x = in(0);
      int64_t axis = attr_int(n, "axis", 1);
      if (axis < 0) axis += x.dim();
      CK_CHECK(axis >= 0 && axis <= x.dim(), "onnx::load: Flatten '", n.name, "': axis out of range for ",
               x.shape().str());
      int64_t rows = 1;
      for (int64_t i = 0; i < axis; ++i) rows *= x.size(static_cast<int>(i));
      y = x.reshape({rows, x.numel() / std::max<int64_t>(rows, 1)});
    } else if (n.op == "Reshape") {
      const auto c = constants_.find(n.inputs.size() > 1 ? n.inputs[1] : std::string());
      CK_CHECK(c != constants_.end() && c->second.integer, "onnx::load: '", what_, "': Reshape '", n.name,
               "' takes its shape from a computed value; convkit reads constant shapes only");
      const Tensor<T>& x = in(0);
      std::vector<int64_t> dims = c->second.ints;
      for (size_t i = 0; i < dims.size(); ++i)
        if (dims[i] == 0 && attr_int(n, "allowzero", 0) == 0 && i < static_cast<size_t>(x.dim()))
          dims[i] = x.size(static_cast<int>(i));
      y = x.reshape(Shape(dims));
    } else if (n.op == "Pad") {
      y = pad(n, in(0));
    } else if (n.op == "Concat") {
      std::vector<Tensor<T>> parts;
      for (size_t i = 0; i < n.inputs.size(); ++i) parts.push_back(in(i));
      int64_t axis = attr_int(n, "axis", 1);
      if (axis < 0) axis += parts.at(0).dim();
      y = cat(parts, static_cast<int>(axis));
    } else if (n.op == "Dropout" || n.op == "Identity") {
      y = in(0);
    } else if (n.op == "Constant") {
      return;  // read when the graph was checked
    }
    values[n.outputs[0]] = y;
  }

  /// ONNX Pad in constant mode with zeros, on the last two dimensions of a 4-D input (the
  /// form PyTorch writes before an AveragePool): zero blocks joined by cat, so it is
  /// differentiable.
  Tensor<T> pad(const Node& n, const Tensor<T>& x) const {
    const auto mode = n.attributes.find("mode");
    const auto c = constants_.find(n.inputs.size() > 1 ? n.inputs[1] : std::string());
    const bool zero_value = n.inputs.size() < 3 || n.inputs[2].empty() ||
                            (constants_.count(n.inputs[2]) && constants_.at(n.inputs[2]).values.size() == 1 &&
                             constants_.at(n.inputs[2]).values[0] == 0.0);
    CK_CHECK((mode == n.attributes.end() || mode->second.s == "constant") && c != constants_.end() &&
                 c->second.integer && c->second.ints.size() == 8 && zero_value && x.dim() == 4 && n.inputs.size() < 4,
             "onnx::load: '", what_, "': Pad '", n.name,
             "': convkit reads zero padding of a 4-D input by constant pads, on height and width only");
    const std::vector<int64_t>& p = c->second.ints;  // begins of the 4 axes, then ends
    CK_CHECK(p[0] == 0 && p[1] == 0 && p[4] == 0 && p[5] == 0 && p[2] >= 0 && p[3] >= 0 && p[6] >= 0 && p[7] >= 0,
             "onnx::load: '", what_, "': Pad '", n.name, "' pads the batch or channels, or by a negative amount");
    Tensor<T> y = x;
    for (int axis : {2, 3}) {
      std::vector<Tensor<T>> parts;
      Shape side = y.shape();
      side[static_cast<size_t>(axis)] = p[static_cast<size_t>(axis)];
      if (side[static_cast<size_t>(axis)] > 0) parts.push_back(Tensor<T>::zeros(side, y.device()));
      parts.push_back(y);
      side[static_cast<size_t>(axis)] = p[static_cast<size_t>(axis) + 4];
      if (side[static_cast<size_t>(axis)] > 0) parts.push_back(Tensor<T>::zeros(side, y.device()));
      if (parts.size() > 1) y = cat(parts, axis);
    }
    return y;
  }

  std::string what_, input_, output_;
  std::vector<Node> nodes_;
  std::map<std::string, Constant> constants_;
  std::vector<std::pair<std::string, Tensor<T>>> tensors_;  ///< float initializers, as parameters or buffers
};

/// Reads the ONNX model at `path` into a module of T (see OnnxModule). Throws ck::Error for
/// a file that is not a readable ONNX model or uses an operator or attribute convkit does
/// not run, naming the node.
template <class T>
std::shared_ptr<nn::Module<T>> load(const std::string& path) {
  const std::vector<unsigned char> bytes = io::read_regular_file(path, "onnx::load", uint64_t(1) << 31);
  return std::make_shared<OnnxModule<T>>(bytes.data(), bytes.size(), path);
}

}  // namespace convkit::onnx
