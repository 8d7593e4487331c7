#pragma once
// convkit's version. CMakeLists.txt reads these three numbers, so the CMake package
// version and this header never disagree.
#include <string>

#define CONVKIT_VERSION_MAJOR 0
#define CONVKIT_VERSION_MINOR 1
#define CONVKIT_VERSION_PATCH 0

namespace convkit {
/// "MAJOR.MINOR.PATCH".
inline std::string version() {
  return std::to_string(CONVKIT_VERSION_MAJOR) + "." + std::to_string(CONVKIT_VERSION_MINOR) + "." +
         std::to_string(CONVKIT_VERSION_PATCH);
}
}  // namespace convkit
