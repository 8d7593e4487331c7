#pragma once
// Reader for the golden test vectors (tests/data/golden, format in its FORMAT.md) and a
// tolerance check that reports the first mismatching element.
#include <doctest/doctest.h>

#include <cmath>
#include <convkit/convkit.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace golden {

struct Array {
  std::vector<int64_t> dims;
  std::vector<double> values;
  ck::Shape shape() const { return ck::Shape(dims); }
  template <class T>
  ck::Tensor<T> as() const {
    return ck::Tensor<T>::from_vector(std::vector<T>(values.begin(), values.end()), shape());
  }
  std::vector<int64_t> as_labels() const { return std::vector<int64_t>(values.begin(), values.end()); }
};

struct Case {
  std::string name, op;
  std::map<std::string, std::vector<int64_t>> attrs;
  std::map<std::string, Array> tensors;
  bool has(const std::string& t) const { return tensors.count(t) != 0; }
  const Array& at(const std::string& t) const {
    auto it = tensors.find(t);
    if (it == tensors.end()) throw std::runtime_error("golden case " + name + " has no tensor " + t);
    return it->second;
  }
  std::vector<int64_t> attr(const std::string& key, std::vector<int64_t> fallback = {}) const {
    auto it = attrs.find(key);
    return it == attrs.end() ? fallback : it->second;
  }
  ck::Pair2 pair(const std::string& key, int64_t fallback) const {
    auto v = attr(key, {fallback, fallback});
    return ck::Pair2(v.at(0), v.at(1));
  }
};

inline std::vector<Case> load(const std::string& op) {
  const std::string path = std::string(CONVKIT_TEST_DATA_DIR) + "/golden/" + op + ".txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Case> cases;
  std::string word;
  while (in >> word) {
    if (word[0] == '#') {
      std::string rest;
      std::getline(in, rest);
    } else if (word == "case") {
      cases.emplace_back();
      in >> cases.back().name;
    } else if (word == "op") {
      in >> cases.back().op;
    } else if (word == "attr") {
      std::string line, key;
      std::getline(in, line);
      std::istringstream ls(line);
      ls >> key;
      int64_t v;
      while (ls >> v) cases.back().attrs[key].push_back(v);
    } else if (word == "tensor") {
      std::string name;
      int64_t rank;
      in >> name >> rank;
      Array a;
      int64_t n = 1;
      for (int64_t i = 0; i < rank; ++i) {
        int64_t d;
        in >> d;
        a.dims.push_back(d);
        n *= d;
      }
      a.values.resize(static_cast<size_t>(n));
      for (auto& v : a.values) {
        std::string tok;
        in >> tok;
        v = std::strtod(tok.c_str(), nullptr);
      }
      cases.back().tensors[name] = std::move(a);
    } else if (word == "end") {
      // nothing: the case is complete
    } else {
      throw std::runtime_error("unexpected token '" + word + "' in " + path);
    }
  }
  if (!in.eof()) throw std::runtime_error("read error in " + path);
  return cases;
}

/// |got - ref| <= atol + rtol * (|ref| + scale), scale = max |ref| over the tensor (values
/// that cancel to ~0 are judged against the tensor's magnitude, not their own; atol serves
/// tensors that are all rounding residue).
template <class T>
void check_close(const ck::Tensor<T>& got, const Array& ref, double rtol, const std::string& what, double atol = 0) {
  INFO(what);
  REQUIRE(got.defined());
  REQUIRE(got.shape() == ref.shape());
  const auto g = got.to_vector();
  double scale = 0;
  for (double r : ref.values) scale = std::max(scale, std::fabs(r));
  scale = std::max(scale, 1e-30);
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double err = std::fabs(static_cast<double>(g[i]) - ref.values[i]);
    if (!(err <= atol + rtol * (std::fabs(ref.values[i]) + scale))) {
      if (bad++ == 0) first = i;
    }
  }
  if (bad) {
    FAIL_CHECK(what << ": " << bad << " of " << g.size() << " elements differ; first at " << first << ": got "
                    << static_cast<double>(g[first]) << ", expected " << ref.values[first]);
  } else {
    CHECK(bad == 0);
  }
}

}  // namespace golden
