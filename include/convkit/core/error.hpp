#pragma once
// ck::Error: the one exception type convkit throws for invalid input.
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

/// Marks a function that runs only on failure: never inlined, and laid out away from the
/// hot code.
#if defined(__GNUC__) || defined(__clang__)
#define CONVKIT_COLD __attribute__((noinline, cold))
#else
#define CONVKIT_COLD
#endif

/// Keeps a function out of its callers, so that the compiler builds its body once instead
/// of once per caller (each layer's destructor inlined the base module's; see nn/module.hpp).
#if defined(__GNUC__) || defined(__clang__)
#define CONVKIT_NOINLINE __attribute__((noinline))
#else
#define CONVKIT_NOINLINE
#endif

namespace convkit {

/// Thrown for every invalid input. The message names the operation, the shapes or
/// values involved and what is wrong, e.g. "conv2d: input has 3 channels but ...".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// One argument of an error message, held by value or by reference and turned into text
/// only when the message is built. Messages are built by one non-template function
/// (join) instead of an ostringstream per call signature: per-signature stream code would
/// be about 6% of the compiler's work on a program that trains LeNet.
class MessagePart {
 public:
  /// Text.
  constexpr MessagePart(const char* s) : kind_(Kind::text), value_(s) {}  // NOLINT(google-explicit-constructor)
  /// Text.
  MessagePart(const std::string& s) : MessagePart(s.c_str()) {}  // NOLINT(google-explicit-constructor)
  /// A character, printed as itself.
  constexpr MessagePart(char c) : kind_(Kind::character), value_(c) {}  // NOLINT(google-explicit-constructor)
  /// An integer (bool prints as 0 or 1, as a default ostream does).
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, char>, int> = 0>
  constexpr MessagePart(I v)  // NOLINT(google-explicit-constructor)
      : kind_(std::is_signed_v<I> ? Kind::signed_integer : Kind::unsigned_integer),
        value_(std::conditional_t<std::is_signed_v<I>, int64_t, uint64_t>(v)) {}
  /// A floating-point number, printed as %g.
  constexpr MessagePart(double v) : kind_(Kind::real), value_(v) {}  // NOLINT(google-explicit-constructor)
  /// Anything with a str() member: Shape, Device, Pair2, ...
  template <class T, class = decltype(std::declval<const T&>().str())>
  MessagePart(const T& v)  // NOLINT(google-explicit-constructor)
      : kind_(Kind::object), value_(Object{&v, [](const void* p) { return static_cast<const T*>(p)->str(); }}) {}

  /// Appends this part's text to `out`.
  void append_to(std::string& out) const {
    char buf[32];
    switch (kind_) {
      case Kind::text:
        out += value_.text != nullptr ? value_.text : "(null)";
        return;
      case Kind::character:
        out += value_.character;
        return;
      case Kind::signed_integer:
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value_.signed_integer));
        break;
      case Kind::unsigned_integer:
        std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(value_.unsigned_integer));
        break;
      case Kind::real:
        std::snprintf(buf, sizeof buf, "%g", value_.real);
        break;
      case Kind::object:
        out += value_.object.format(value_.object.pointer);
        return;
    }
    out += buf;
  }

 private:
  enum class Kind : unsigned char { text, character, signed_integer, unsigned_integer, real, object };
  struct Object {
    const void* pointer;
    std::string (*format)(const void*);
  };
  // Each constructor sets exactly the member its kind reads.
  union Value {
    constexpr explicit Value(const char* v) : text(v) {}
    constexpr explicit Value(char v) : character(v) {}
    constexpr explicit Value(int64_t v) : signed_integer(v) {}
    constexpr explicit Value(uint64_t v) : unsigned_integer(v) {}
    constexpr explicit Value(double v) : real(v) {}
    constexpr explicit Value(Object v) : object(v) {}
    const char* text;
    char character;
    int64_t signed_integer;
    uint64_t unsigned_integer;
    double real;
    Object object;
  };
  Kind kind_;
  Value value_;
};

/// The parts' texts, one after another.
inline std::string join(std::initializer_list<MessagePart> parts) {
  std::string out;
  for (const MessagePart& p : parts) p.append_to(out);
  return out;
}

/// The message made of `parts` (text, numbers, shapes, ...), as an ostream would print them.
template <class... Parts>
std::string cat(const Parts&... parts) {
  return join({MessagePart(parts)...});
}

/// Throws convkit::Error with the message made of `parts` (out of line: a failed check's
/// code stays out of the caller).
[[noreturn]] CONVKIT_COLD inline void fail(std::initializer_list<MessagePart> parts) { throw Error(join(parts)); }

/// `v` as "0x" and two hexadecimal digits (for byte codes in file-format messages).
inline std::string hex_byte(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v & 0xff);
  return buf;
}

}  // namespace detail

}  // namespace convkit

/// Throws convkit::Error with the concatenated message parts when `cond` is false.
#define CK_CHECK(cond, ...)                              \
  do {                                                   \
    if (!(cond)) ::convkit::detail::fail({__VA_ARGS__}); \
  } while (0)
