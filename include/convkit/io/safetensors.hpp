#pragma once
// Checkpoints in the safetensors format (8-byte little-endian header length, a JSON
// header of name -> {dtype, shape, data_offsets}, then raw little-endian data), so a
// model saved here loads in PyTorch with the safetensors package, and back.
//
// Saving writes a temporary file beside the target and renames it over the target, so a
// crash never leaves a half-written checkpoint. Loading validates every field first.
// The header's "__metadata__" (string -> string, as in the official package) carries what
// a checkpoint says about itself, such as the epoch a training run saved it after.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "../nn/module.hpp"
#include "file.hpp"
#include "json.hpp"

namespace convkit::io {

/// A checkpoint's "__metadata__": string keys to string values (safetensors allows nothing
/// else). save() always writes "format": "pt" unless the caller gives another value.
using Metadata = std::map<std::string, std::string>;

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
  std::string dtype;  ///< "F32", "F64" or "I64"
  /// The tensor's shape.
  Shape shape;
  /// The raw little-endian element bytes.
  std::vector<unsigned char> bytes;

  /// The data converted to a Tensor<T> (F32 or F64 stored, either T).
  template <class T>
  Tensor<T> as() const {
    Tensor<T> t = Tensor<T>::empty(shape);
    const size_t n = static_cast<size_t>(shape.numel());
    CK_CHECK(bytes.size() == n * (dtype == "F32" ? 4 : 8), "StoredTensor::as: ", bytes.size(),
             " bytes cannot hold shape ", shape.str(), " of ", dtype);
    if (n == 0) return t;
    if (dtype == "I64") {
      std::vector<int64_t> v(n);
      std::memcpy(v.data(), bytes.data(), n * sizeof(int64_t));
      for (size_t i = 0; i < n; ++i) t.data()[i] = static_cast<T>(v[i]);
    } else if (dtype == "F32") {
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

namespace detail {
/// One tensor to write: its dtype's name, shape and little-endian bytes.
struct RawTensor {
  std::string name;                  ///< the tensor's name in the file
  std::string dtype;                 ///< "F32", "F64" or "I64"
  Shape shape;                       ///< its shape
  std::vector<unsigned char> bytes;  ///< its data
};

/// The bytes of `t` as stored: its own type, or int64 when `as_integer` (counts).
template <class T>
RawTensor raw_tensor(const std::string& name, const Tensor<T>& t, bool as_integer) {
  CK_CHECK(t.defined(), "save_safetensors: tensor '", name, "' is undefined");
  const std::vector<T> host = t.to_vector();
  RawTensor r{name, as_integer ? "I64" : dtype_name<T>(), t.shape(), {}};
  if (as_integer) {
    std::vector<int64_t> v(host.size());
    for (size_t i = 0; i < host.size(); ++i) v[i] = static_cast<int64_t>(std::llround(static_cast<double>(host[i])));
    r.bytes.resize(v.size() * sizeof(int64_t));
    if (!v.empty()) std::memcpy(r.bytes.data(), v.data(), r.bytes.size());
  } else {
    r.bytes.resize(host.size() * sizeof(T));
    if (!host.empty()) std::memcpy(r.bytes.data(), host.data(), r.bytes.size());
  }
  return r;
}

/// Writes the tensors and `metadata` to `path` atomically (temporary file, then rename).
inline void write_safetensors(const std::string& path, const std::vector<RawTensor>& tensors,
                              const Metadata& metadata = {}) {
  CK_CHECK(little_endian(), "save_safetensors: big-endian hosts are not supported");
  Metadata all = metadata;
  all.emplace("format", "pt");  // (kept when the caller gives one)
  std::string header = "{\"__metadata__\":{";
  for (auto it = all.begin(); it != all.end(); ++it)
    header += (it == all.begin() ? "" : ",") + json_quote(it->first) + ":" + json_quote(it->second);
  header += "}";
  size_t offset = 0;
  for (const RawTensor& t : tensors) {
    header += "," + json_quote(t.name) + ":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) header += (d ? "," : "") + std::to_string(t.shape[d]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + t.bytes.size()) + "]}";
    offset += t.bytes.size();
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
  for (const RawTensor& t : tensors)
    ok = ok && (t.bytes.empty() || std::fwrite(t.bytes.data(), 1, t.bytes.size(), f) == t.bytes.size());
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(::fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(convkit::detail::cat("save_safetensors: writing '", path, "' failed (disk full or not writable?)"));
  }
}
}  // namespace detail

/// Writes named tensors to `path` atomically (temporary file, then rename).
template <class T>
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor<T>>>& tensors) {
  std::vector<detail::RawTensor> raw;
  raw.reserve(tensors.size());
  for (const auto& [name, t] : tensors) raw.push_back(detail::raw_tensor(name, t, false));
  detail::write_safetensors(path, raw);
}

namespace detail {
/// The safetensors reader's limit on the JSON header, as in the official reader.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

/// The bytes of `shape` elements of `dtype` ("F32", "F64" or "I64"), or a ck::Error naming `where`
/// when the count does not fit in int64_t.
inline uint64_t stored_bytes(const Shape& shape, const std::string& dtype, const std::string& where) {
  int64_t n = 1, bytes = 0;
  CK_CHECK(shape.numel_fits(&n), where, ": shape ", shape.str(), " has too many elements");
  CK_CHECK(!convkit::detail::mul_overflows(n, dtype == "F32" ? 4 : 8, &bytes), where, ": shape ", shape.str(), " of ",
           dtype, " is too large");
  return static_cast<uint64_t>(bytes);
}

/// One tensor's byte range in the data section, for the tiling check.
struct Span {
  uint64_t begin;           ///< first byte
  uint64_t end;             ///< one past the last byte
  const std::string* name;  ///< the tensor's name
};

inline std::map<std::string, StoredTensor> parse_safetensors_checked(const unsigned char* data, size_t size,
                                                                     const std::string& what, Metadata* metadata) {
  CK_CHECK(size >= 8, what, " is too short (", size, " bytes) to be a safetensors file");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(data[i]) << (8 * i);
  CK_CHECK(n >= 2 && n <= size - 8, what, " declares a header of ", n, " bytes but the file has ", size - 8,
           " after the length field (truncated or not a safetensors file)");
  CK_CHECK(n <= kMaxHeaderBytes, what, " declares a header of ", n, " bytes, above the limit of ", kMaxHeaderBytes);
  const std::string header(reinterpret_cast<const char*>(data) + 8, static_cast<size_t>(n));
  const Json root = JsonParser(header, what).parse_document();
  CK_CHECK(root.kind == Json::Kind::Object, what, ": the header is not a JSON object");
  const size_t data_start = 8 + static_cast<size_t>(n);
  const uint64_t data_size = size - data_start;
  std::map<std::string, StoredTensor> out;
  std::vector<Span> spans;
  for (const auto& [name, entry] : root.object) {
    if (name == "__metadata__") {
      CK_CHECK(entry.kind == Json::Kind::Object, what, ": __metadata__ is not an object");
      for (const auto& [key, value] : entry.object) {
        CK_CHECK(value.kind == Json::Kind::String, what, ": __metadata__ value '", key, "' is not a string");
        if (metadata) (*metadata)[key] = value.string;
      }
      continue;
    }
    const std::string where = convkit::detail::cat(what, " tensor '", name, "'");
    CK_CHECK(entry.kind == Json::Kind::Object, where, ": entry is not an object");
    const Json* dtype = entry.find("dtype");
    const Json* shape = entry.find("shape");
    const Json* offsets = entry.find("data_offsets");
    CK_CHECK(dtype && dtype->kind == Json::Kind::String, where, ": missing dtype");
    CK_CHECK(dtype->string == "F32" || dtype->string == "F64" || dtype->string == "I64", where, ": dtype ",
             dtype->string, " is not supported (F32, F64 or I64)");
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
    CK_CHECK(b.kind == Json::Kind::Number && e.kind == Json::Kind::Number && b.integral && e.integral &&
                 b.integer >= 0 && e.integer >= b.integer,
             where, ": bad data_offsets");
    const uint64_t begin = static_cast<uint64_t>(b.integer), end = static_cast<uint64_t>(e.integer);
    const uint64_t need = stored_bytes(t.shape, t.dtype, where);
    CK_CHECK(end - begin == need, where, ": data_offsets span ", end - begin, " bytes but shape ", t.shape.str(),
             " of ", t.dtype, " needs ", need);
    CK_CHECK(end <= data_size, where, ": data ends at byte ", end, " but the file holds only ", data_size,
             " bytes of data (truncated?)");
    t.bytes.assign(data + data_start + begin, data + data_start + end);
    auto [it, inserted] = out.emplace(name, std::move(t));
    CK_CHECK(inserted, where, ": duplicate name");
    spans.push_back({begin, end, &it->first});
  }
  // As the official reader requires: the tensors' byte ranges tile the data section
  // exactly, with no overlap, no hole and nothing after the last one.
  std::sort(spans.begin(), spans.end(),
            [](const Span& x, const Span& y) { return x.begin != y.begin ? x.begin < y.begin : x.end < y.end; });
  uint64_t covered = 0;
  for (const Span& s : spans) {
    CK_CHECK(s.begin >= covered, what, ": tensor '", *s.name, "' (bytes ", s.begin, "-", s.end,
             ") overlaps the tensor before it, which ends at byte ", covered);
    CK_CHECK(s.begin == covered, what, ": bytes ", covered, "-", s.begin, " of the data section belong to no tensor",
             " (a hole before '", *s.name, "')");
    covered = s.end;
  }
  CK_CHECK(covered == data_size, what, ": the tensors cover ", covered, " bytes but the data section holds ", data_size,
           " (trailing bytes)");
  return out;
}
}  // namespace detail

/// Parses and validates a safetensors file held in memory (F32 and F64 are supported);
/// `what` names the source in errors. Anything malformed gives a ck::Error. With
/// `metadata`, the header's "__metadata__" entries are stored there too.
inline std::map<std::string, StoredTensor> parse_safetensors(const unsigned char* data, size_t size,
                                                             const std::string& what, Metadata* metadata = nullptr) {
  CK_CHECK(detail::little_endian(), "load_safetensors: big-endian hosts are not supported");
  try {
    Metadata read;
    auto tensors = detail::parse_safetensors_checked(data, size, what, &read);
    if (metadata) *metadata = std::move(read);  // only from a file that passed every check
    return tensors;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: still a ck::Error for the caller
    throw Error(convkit::detail::cat(what, ": ", e.what()));
  }
}

/// Reads and validates every tensor of a safetensors file (F32 and F64 are supported), and
/// with `metadata` its "__metadata__" entries.
inline std::map<std::string, StoredTensor> load_safetensors(const std::string& path, Metadata* metadata = nullptr) {
  const std::vector<unsigned char> file = read_regular_file(path, "load_safetensors", UINT64_MAX);
  return parse_safetensors(file.data(), file.size(), "load_safetensors: '" + path + "'", metadata);
}

/// Saves every parameter and buffer of `module` under its state_dict name ("0.weight",
/// "1.running_mean"), counts such as num_batches_tracked as int64, as PyTorch saves them,
/// with `metadata` in the header (safetensors.torch.save_file's metadata argument).
template <class T>
void save(const nn::Module<T>& module, const std::string& path, const Metadata& metadata = {}) {
  std::vector<detail::RawTensor> raw;
  for (const auto& entry : module.state()) raw.push_back(detail::raw_tensor(entry.name, entry.tensor, entry.integer));
  detail::write_safetensors(path, raw, metadata);
}

/// Copies tensors read from a checkpoint into `module`'s parameters and buffers: every one
/// must be present with the same shape, and nothing else. `source` names the checkpoint in
/// errors. The module is changed only when every check has passed.
template <class T>
void load_tensors(nn::Module<T>& module, const std::map<std::string, StoredTensor>& stored, const std::string& source) {
  const auto entries = module.state();
  // Explicit throws, not CK_CHECK: nvcc 13 failed to compile these checks in CK_CHECK's
  // form (in a .cu file that includes convkit), with "expected ';' before '}'".
  for (const auto& entry : entries) {
    const std::string& name = entry.name;
    const Shape& shape = entry.tensor.shape();
    auto it = stored.find(name);
    if (it == stored.end())
      throw Error(convkit::detail::cat("load: ", source, " has no tensor '", name, "' (the model expects ",
                                       entries.size(), " parameters and buffers)"));
    if (it->second.shape != shape)
      throw Error(convkit::detail::cat("load: ", source, " tensor '", name, "' has shape ", it->second.shape.str(),
                                       " but the model's has shape ", shape.str()));
  }
  for (const auto& stored_entry : stored) {
    bool known = false;
    for (const auto& entry : entries) known = known || entry.name == stored_entry.first;
    if (!known)
      throw Error(convkit::detail::cat("load: ", source, " has tensor '", stored_entry.first,
                                       "' that the model does not have"));
  }
  std::vector<Tensor<T>> values;
  values.reserve(entries.size());
  for (const auto& entry : entries) values.push_back(stored.at(entry.name).template as<T>());
  NoGradGuard no_grad;
  for (size_t i = 0; i < entries.size(); ++i) {
    Tensor<T> t = entries[i].tensor;
    t.copy_(values[i]);
  }
}

/// Loads parameters and buffers saved by save() (or by PyTorch's safetensors.torch.save_file
/// of a state_dict) into `module`: every one must be present with the same shape, and
/// nothing else. With `metadata`, the file's "__metadata__" entries are stored there.
template <class T>
void load(nn::Module<T>& module, const std::string& path, Metadata* metadata = nullptr) {
  Metadata read;
  load_tensors(module, load_safetensors(path, &read), "'" + path + "'");
  if (metadata) *metadata = std::move(read);
}

}  // namespace convkit::io
