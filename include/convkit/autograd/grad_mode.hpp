#pragma once
// Whether ops record a graph. On by default; NoGradGuard turns it off for a scope.

namespace convkit {

namespace autograd {
inline bool& grad_mode_flag() {
  thread_local bool enabled = true;
  return enabled;
}
/// True when ops record their backward (no NoGradGuard alive on this thread).
inline bool grad_enabled() { return grad_mode_flag(); }
}  // namespace autograd

/// RAII: while it lives, no op on this thread records a graph (as torch::NoGradGuard).
/// Use it for evaluation and for in-place parameter updates.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(autograd::grad_mode_flag()) { autograd::grad_mode_flag() = false; }
  ~NoGradGuard() { autograd::grad_mode_flag() = previous_; }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace convkit
