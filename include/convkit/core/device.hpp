#pragma once
// Device: where a tensor's memory lives. Chosen at run time.
#include <string>

namespace convkit {

/// A device: the CPU, or CUDA device `index`. A CPU-only build can name a CUDA device,
/// but allocating on it throws ck::Error.
struct Device {
  enum class Type { CPU, CUDA };
  Type type = Type::CPU;
  int index = 0;

  static Device cpu() { return Device{Type::CPU, 0}; }
  static Device cuda(int index = 0) { return Device{Type::CUDA, index}; }
  bool is_cpu() const { return type == Type::CPU; }
  bool is_cuda() const { return type == Type::CUDA; }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

  friend bool operator==(const Device& a, const Device& b) {
    return a.type == b.type && (a.type == Type::CPU || a.index == b.index);
  }
  friend bool operator!=(const Device& a, const Device& b) { return !(a == b); }
};

}  // namespace convkit
