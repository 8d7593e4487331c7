#pragma once
// Device: where a tensor's memory lives. Chosen at run time.
#include <string>

#include "error.hpp"

namespace convkit {

/// A device: the CPU, or CUDA device `index`. A CPU-only build can name a CUDA device,
/// but allocating on it throws ck::Error.
struct Device {
  /// The kind of device.
  enum class Type { CPU, CUDA };
  /// CPU or CUDA.
  Type type = Type::CPU;
  /// The device index (CUDA only).
  int index = 0;

  /// The CPU.
  static Device cpu() { return Device{Type::CPU, 0}; }
  /// CUDA device `index`.
  static Device cuda(int index = 0) { return Device{Type::CUDA, index}; }
  /// True for the CPU.
  bool is_cpu() const { return type == Type::CPU; }
  /// True for a CUDA device.
  bool is_cuda() const { return type == Type::CUDA; }
  /// "cpu" or "cuda:N".
  std::string str() const { return is_cpu() ? "cpu" : detail::cat("cuda:", index); }

  /// Same type and index.
  friend bool operator==(const Device& a, const Device& b) {
    return a.type == b.type && (a.type == Type::CPU || a.index == b.index);
  }
  /// Different type or index.
  friend bool operator!=(const Device& a, const Device& b) { return !(a == b); }
};

}  // namespace convkit
