#pragma once
// How many CPU threads convkit's kernels use (OpenMP builds; 1 otherwise).
#include <Eigen/Core>

#include "../backend/cpu/parallel.hpp"

namespace convkit {

/// Sets the number of CPU threads used by convkit's kernels and by Eigen's GEMM.
inline void set_num_threads(int n) {
  if (n < 1) n = 1;
#if defined(_OPENMP)
  omp_set_num_threads(n);
#endif
  Eigen::setNbThreads(n);
}
/// The number of CPU threads kernels may use.
inline int num_threads() { return backend::cpu::max_threads(); }

}  // namespace convkit
