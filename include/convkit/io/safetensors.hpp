#pragma once
// Checkpoints in the safetensors format (8-byte little-endian header length, a JSON
// header of name -> {dtype, shape, data_offsets}, then raw little-endian data), so a
// model saved here loads in PyTorch with the safetensors package, and back.
//
// Saving writes a temporary file beside the target and renames it over the target, so a
// crash never leaves a half-written checkpoint. Loading validates every field first.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "../nn/module.hpp"
#include "json.hpp"

namespace convkit::io {

namespace detail {
inline bool little_endian() {
  const uint16_t one = 1;
  unsigned char b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}
template <class T>
const char* dtype_name();
template <>
inline const char* dtype_name<float>() {
  return "F32";
}
template <>
inline const char* dtype_name<double>() {
  return "F64";
}
}  // namespace detail

/// One tensor read from a file, with its raw dtype kept.
struct StoredTensor {
  std::string dtype;  ///< "F32" or "F64"
  /// The tensor's shape.
  Shape shape;
  /// The raw little-endian element bytes.
  std::vector<unsigned char> bytes;

  /// The data converted to a Tensor<T> (F32 or F64 stored, either T).
  template <class T>
  Tensor<T> as() const {
    Tensor<T> t = Tensor<T>::empty(shape);
    const size_t n = static_cast<size_t>(shape.numel());
    if (dtype == "F32") {
      std::vector<float> v(n);
      std::memcpy(v.data(), bytes.data(), n * sizeof(float));
      std::copy(v.begin(), v.end(), t.data());
    } else {
      std::vector<double> v(n);
      std::memcpy(v.data(), bytes.data(), n * sizeof(double));
      for (size_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(v[i]);
    }
    return t;
  }
};

/// Writes named tensors to `path` atomically (temporary file, then rename).
template <class T>
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor<T>>>& tensors) {
  CK_CHECK(detail::little_endian(), "save_safetensors: big-endian hosts are not supported");
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    CK_CHECK(t.defined(), "save_safetensors: tensor '", name, "' is undefined");
    const size_t bytes = static_cast<size_t>(t.numel()) * sizeof(T);
    header += "," + json_quote(name) + ":{\"dtype\":\"" + detail::dtype_name<T>() + "\",\"shape\":[";
    for (int64_t d = 0; d < t.dim(); ++d) header += (d ? "," : "") + std::to_string(t.size(static_cast<int>(d)));
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';

  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  CK_CHECK(f != nullptr, "save_safetensors: cannot create '", tmp, "' (does the folder exist and is it writable?)");
  bool ok = true;
  const uint64_t n = header.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  ok = ok && std::fwrite(len, 1, 8, f) == 8;
  ok = ok && std::fwrite(header.data(), 1, header.size(), f) == header.size();
  for (const auto& [name, t] : tensors) {
    const std::vector<T> host = t.to_vector();
    ok = ok && std::fwrite(host.data(), sizeof(T), host.size(), f) == host.size();
  }
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(::fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(convkit::detail::cat("save_safetensors: writing '", path, "' failed (disk full or not writable?)"));
  }
}

/// Reads and validates every tensor of a safetensors file (F32 and F64 are supported).
inline std::map<std::string, StoredTensor> load_safetensors(const std::string& path) {
  CK_CHECK(detail::little_endian(), "load_safetensors: big-endian hosts are not supported");
  std::ifstream in(path, std::ios::binary);
  CK_CHECK(in.good(), "load_safetensors: cannot open '", path, "'");
  std::vector<unsigned char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string what = "load_safetensors: '" + path + "'";
  CK_CHECK(file.size() >= 8, what, " is too short (", file.size(), " bytes) to be a safetensors file");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(file[static_cast<size_t>(i)]) << (8 * i);
  CK_CHECK(n >= 2 && n <= file.size() - 8, what, " declares a header of ", n, " bytes but the file has ",
           file.size() - 8, " after the length field (truncated or not a safetensors file)");
  const std::string header(file.begin() + 8, file.begin() + 8 + static_cast<long>(n));
  const Json root = JsonParser(header, what).parse_document();
  CK_CHECK(root.kind == Json::Kind::Object, what, ": the header is not a JSON object");
  const size_t data_start = 8 + static_cast<size_t>(n), data_size = file.size() - data_start;
  std::map<std::string, StoredTensor> out;
  size_t covered = 0;
  for (const auto& [name, entry] : root.object) {
    if (name == "__metadata__") continue;
    const std::string where = convkit::detail::cat(what, " tensor '", name, "'");
    CK_CHECK(entry.kind == Json::Kind::Object, where, ": entry is not an object");
    const Json* dtype = entry.find("dtype");
    const Json* shape = entry.find("shape");
    const Json* offsets = entry.find("data_offsets");
    CK_CHECK(dtype && dtype->kind == Json::Kind::String, where, ": missing dtype");
    CK_CHECK(dtype->string == "F32" || dtype->string == "F64", where, ": dtype ", dtype->string,
             " is not supported (F32 or F64)");
    CK_CHECK(shape && shape->kind == Json::Kind::Array, where, ": missing shape");
    CK_CHECK(offsets && offsets->kind == Json::Kind::Array && offsets->array.size() == 2, where,
             ": data_offsets must be [begin, end]");
    StoredTensor t;
    t.dtype = dtype->string;
    for (const Json& d : shape->array) {
      CK_CHECK(d.kind == Json::Kind::Number && d.integral && d.integer >= 0, where, ": bad shape entry");
      t.shape.push_back(d.integer);
    }
    const Json &b = offsets->array[0], &e = offsets->array[1];
    CK_CHECK(b.integral && e.integral && b.integer >= 0 && e.integer >= b.integer, where, ": bad data_offsets");
    const size_t begin = static_cast<size_t>(b.integer), end = static_cast<size_t>(e.integer);
    const size_t item = t.dtype == "F32" ? 4 : 8;
    CK_CHECK(end - begin == static_cast<size_t>(t.shape.numel()) * item, where, ": data_offsets span ", end - begin,
             " bytes but shape ", t.shape.str(), " of ", t.dtype, " needs ",
             t.shape.numel() * static_cast<int64_t>(item));
    CK_CHECK(end <= data_size, where, ": data ends at byte ", end, " but the file holds only ", data_size,
             " bytes of data (truncated?)");
    t.bytes.assign(file.begin() + static_cast<long>(data_start + begin),
                   file.begin() + static_cast<long>(data_start + end));
    covered += end - begin;
    CK_CHECK(out.emplace(name, std::move(t)).second, where, ": duplicate name");
  }
  CK_CHECK(covered == data_size, what, ": the tensors cover ", covered, " bytes but the data section holds ", data_size,
           " (overlapping entries or trailing bytes)");
  return out;
}

/// Saves every parameter of `module` under its state_dict name ("0.weight", ...).
template <class T>
void save(const nn::Module<T>& module, const std::string& path) {
  save_safetensors<T>(path, module.named_parameters());
}

/// Loads parameters saved by save() (or by PyTorch's safetensors.torch.save_file) into
/// `module`: every parameter must be present with the same shape, and nothing else.
template <class T>
void load(nn::Module<T>& module, const std::string& path) {
  const auto stored = load_safetensors(path);
  const auto params = module.named_parameters();
  for (const auto& [name, p] : params) {
    auto it = stored.find(name);
    CK_CHECK(it != stored.end(), "load: '", path, "' has no tensor '", name, "' (the model expects ", params.size(),
             " parameters)");
    CK_CHECK(it->second.shape == p.shape(), "load: '", path, "' tensor '", name, "' has shape ", it->second.shape.str(),
             " but the model's parameter has shape ", p.shape().str());
  }
  for (const auto& [name, t] : stored) {
    bool known = false;
    for (const auto& [pname, p] : params) known = known || pname == name;
    CK_CHECK(known, "load: '", path, "' has tensor '", name, "' that the model does not have");
  }
  NoGradGuard no_grad;
  for (auto [name, p] : params) p.copy_(stored.at(name).template as<T>());
}

}  // namespace convkit::io
