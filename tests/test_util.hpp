#pragma once
// Small helpers shared by the tests.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <convkit/convkit.hpp>
#include <exception>
#include <string>

/// The message of the ck::Error that f throws, or a marker saying what happened instead.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const ck::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a ck::Error: ") + e.what() + ">";
  }
  return "<nothing thrown>";
}

/// A fresh folder /tmp/convkit-<name>-XXXXXX, made on the first call and returned by every
/// later one.
inline std::string test_temp_dir(const char* name) {
  static const std::string dir = [name] {
    std::string tmpl = std::string("/tmp/convkit-") + name + "-XXXXXX";
    const char* d = ::mkdtemp(tmpl.data());
    REQUIRE(d != nullptr);
    return std::string(d);
  }();
  return dir;
}
