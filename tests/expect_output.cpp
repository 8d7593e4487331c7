// expect_output EXPECTED PROGRAM [ARGS...]: runs PROGRAM and compares its standard output
// with the file EXPECTED, line by line. Text must match exactly (trailing spaces aside);
// numbers match within |got - want| <= 1e-4 + 1e-3 * |want|.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Token {
  bool number;
  std::string text;
  double value;
};

std::vector<Token> tokenize(const std::string& line) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < line.size()) {
    const char* start = line.c_str() + i;
    const bool may_start = std::isdigit(static_cast<unsigned char>(line[i])) ||
                           ((line[i] == '-' || line[i] == '.') && i + 1 < line.size() &&
                            std::isdigit(static_cast<unsigned char>(line[i + 1])));
    if (may_start) {
      char* end = nullptr;
      const double v = std::strtod(start, &end);
      if (end != start) {
        out.push_back({true, std::string(start, static_cast<size_t>(end - start)), v});
        i += static_cast<size_t>(end - start);
        continue;
      }
    }
    if (out.empty() || out.back().number) out.push_back({false, "", 0});
    out.back().text += line[i++];
  }
  return out;
}

std::vector<std::string> lines_of(std::istream& in) {
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.pop_back();
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: expect_output EXPECTED PROGRAM [ARGS...]\n";
    return 2;
  }
  std::ifstream expected_file(argv[1]);
  if (!expected_file) {
    std::cerr << "expect_output: cannot open " << argv[1] << "\n";
    return 2;
  }
  std::string command;
  for (int i = 2; i < argc; ++i) command += std::string(i > 2 ? " '" : "'") + argv[i] + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) {
    std::cerr << "expect_output: cannot run " << command << "\n";
    return 2;
  }
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  std::cout << output;
  if (status != 0) {
    std::cerr << "expect_output: program exited with status " << status << "\n";
    return 1;
  }
  std::istringstream got_stream(output);
  const auto got = lines_of(got_stream), want = lines_of(expected_file);
  int failures = 0;
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    const std::string g = i < got.size() ? got[i] : "<missing line>", w = i < want.size() ? want[i] : "<no line>";
    const auto tg = tokenize(g), tw = tokenize(w);
    bool ok = tg.size() == tw.size();
    for (size_t k = 0; ok && k < tg.size(); ++k) {
      if (tg[k].number != tw[k].number)
        ok = false;
      else if (!tg[k].number)
        ok = tg[k].text == tw[k].text;
      else
        ok = std::fabs(tg[k].value - tw[k].value) <= 1e-4 + 1e-3 * std::fabs(tw[k].value);
    }
    if (!ok && failures++ < 10)
      std::cerr << "line " << i + 1 << ":\n  got:      " << g << "\n  expected: " << w << "\n";
  }
  if (failures) {
    std::cerr << "expect_output: " << failures << " line(s) differ from " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
