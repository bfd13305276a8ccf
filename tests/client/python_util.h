// Test helpers: unique temporary paths, and running Debian's /usr/bin/python3 (torch and numpy
// come from Debian packages).
#ifndef HNET_TESTS_CLIENT_PYTHON_UTIL_H_
#define HNET_TESTS_CLIENT_PYTHON_UTIL_H_

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace hnet::client::testing {

inline constexpr char kPython[] = "/usr/bin/python3";

// A path under the test temp dir that no other process or call gets: ctest runs test cases
// in parallel processes, possibly from several build trees.
inline std::string UniqueTempPath(const std::string& name) {
  static std::atomic<int> counter{0};
  return ::testing::TempDir() + "hnet_client_" + std::to_string(getpid()) + "_" +
         std::to_string(counter++) + "_" + name;
}

// True when /usr/bin/python3 can import `module`.
inline bool PythonHas(const std::string& module) {
  const std::string cmd =
      std::string(kPython) + " -c 'import " + module + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Runs `script` with /usr/bin/python3 and returns its exit code.
inline int RunPython(const std::string& script) {
  const std::string path = UniqueTempPath("check.py");
  std::ofstream(path) << script;
  const std::string cmd = std::string(kPython) + " " + path;
  const int rc = std::system(cmd.c_str());
  std::remove(path.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace hnet::client::testing

#define HNET_SKIP_WITHOUT_PYTHON_MODULE(module)                                  \
  if (!::hnet::client::testing::PythonHas(module)) {                            \
    GTEST_SKIP() << "/usr/bin/python3 with module " << module << " unavailable"; \
  }

#endif  // HNET_TESTS_CLIENT_PYTHON_UTIL_H_
