#pragma once
// Storage: one device allocation, shared by a tensor and all of its views.
#include <cstdint>
#include <memory>

#include "../backend/dispatch.hpp"
#include "device.hpp"

namespace convkit {

/// A reference-counted, 64-byte aligned block of `numel` elements on a device, from that device's caching allocator.
template <class T>
class Storage {
 public:
  /// Allocates uninitialised memory; throws ck::Error when the device cannot provide it.
  Storage(int64_t numel, Device device)
      : numel_(numel),
        device_(device),
        data_(static_cast<T*>(backend::allocate(device, static_cast<size_t>(numel) * sizeof(T)))) {}
  ~Storage() { backend::deallocate(device_, data_); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  /// The first element.
  T* data() const { return data_; }
  /// The number of elements.
  int64_t numel() const { return numel_; }
  /// The device holding the memory.
  Device device() const { return device_; }

 private:
  int64_t numel_;
  Device device_;
  T* data_;
};

}  // namespace convkit
