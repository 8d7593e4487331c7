// The CPU kernels of convkit, compiled once per program: with CONVKIT_SEPARATE_KERNELS
// defined, every other file declares them (kernel_list.hpp) and this one defines them.
// CMake's convkit::convkit builds it into convkit_kernels; without CMake, compile this
// file into the program and define CONVKIT_SEPARATE_KERNELS for every file.
#define CONVKIT_KERNEL_DEFINITIONS  // read the kernels, which the other files only declare
#include "../../convkit.hpp"

namespace convkit::backend::cpu {
CONVKIT_CPU_KERNELS(template, float)
CONVKIT_CPU_KERNELS(template, double)
}  // namespace convkit::backend::cpu
