#pragma once
// ck::Error: the one exception type convkit throws for invalid input.
#include <sstream>
#include <stdexcept>
#include <string>

namespace convkit {

/// Thrown for every invalid input. The message names the operation, the shapes or
/// values involved and what is wrong, e.g. "conv2d: input has 3 channels but ...".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
}  // namespace detail

}  // namespace convkit

/// Throws convkit::Error with the concatenated message parts when `cond` is false.
#define CK_CHECK(cond, ...)                                                   \
  do {                                                                        \
    if (!(cond)) throw ::convkit::Error(::convkit::detail::cat(__VA_ARGS__)); \
  } while (0)
