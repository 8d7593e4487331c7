// Generates a C++ file from README.md's ```cpp blocks, so the README's code is compiled
// (and run) by the test suite and cannot drift from the library. Each block becomes one
// function; its #include lines move to the top of the file.
//   readme_snippets_gen README.md OUT.cpp
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: readme_snippets_gen README.md OUT.cpp\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "readme_snippets_gen: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::vector<std::string> includes = {"#include <convkit/convkit.hpp>", "#include <iostream>"};
  std::vector<std::string> bodies;
  std::string line, body;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line.rfind("```cpp", 0) == 0) {
      inside = true;
      body.clear();
    } else if (inside && line.rfind("```", 0) == 0) {
      inside = false;
      bodies.push_back(body);
    } else if (inside) {
      if (line.rfind("#include", 0) == 0)
        includes.push_back(line.substr(0, line.find('>') + 1));
      else
        body += "  " + line + "\n";
    }
  }
  if (bodies.empty()) {
    std::cerr << "readme_snippets_gen: no ```cpp blocks in " << argv[1] << "\n";
    return 1;
  }
  std::ostringstream out;
  out << "// Generated from README.md by readme_snippets_gen: do not edit.\n";
  for (const auto& inc : includes) out << inc << "\n";
  out << "namespace ck = convkit;\n\n";
  for (size_t i = 0; i < bodies.size(); ++i)
    out << "static void readme_snippet_" << i << "() {\n" << bodies[i] << "}\n\n";
  out << "int main() {\n";
  for (size_t i = 0; i < bodies.size(); ++i)
    out << "  std::cout << \"--- README snippet " << i << "\\n\";\n  readme_snippet_" << i << "();\n";
  out << "  std::cout << \"\\n" << bodies.size() << " README snippets compiled and ran\\n\";\n  return 0;\n}\n";
  std::ofstream(argv[2]) << out.str();
  return 0;
}
