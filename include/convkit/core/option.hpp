#pragma once
// CK_OPTION: one setter-getter pair of an options builder, as the PyTorch C++ frontend
// spells them: `Conv2dOptions().stride(2)` sets, `options.stride()` gets.

/// Declares option `name` of type Type with default `initial` in class Owner: a setter
/// returning Owner& for chaining, a const getter and the private member name_.
// Type is a type, which cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CK_OPTION(Owner, Type, name, initial)  \
 public:                                       \
  Owner& name(Type value) {                    \
    name##_ = value;                           \
    return *this;                              \
  }                                            \
  const Type& name() const { return name##_; } \
                                               \
 private:                                      \
  Type name##_ = initial;
// NOLINTEND(bugprone-macro-parentheses)
