#pragma once
// Storage: one device allocation, shared by a tensor and all of its views.
#include <cstdint>
#include <memory>

#include "../backend/dispatch.hpp"
#include "device.hpp"

namespace convkit {

template <class T>
class Storage {
 public:
  Storage(int64_t numel, Device device)
      : numel_(numel),
        device_(device),
        data_(static_cast<T*>(backend::allocate(device, static_cast<size_t>(numel) * sizeof(T)))) {}
  ~Storage() { backend::deallocate(device_, data_); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  T* data() const { return data_; }
  int64_t numel() const { return numel_; }
  Device device() const { return device_; }

 private:
  int64_t numel_;
  Device device_;
  T* data_;
};

}  // namespace convkit
