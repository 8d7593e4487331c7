#pragma once
// Small helpers shared by the tests.
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
