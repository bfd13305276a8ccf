// Tests that bad input cannot make a reader allocate without bound: runs a check in a forked
// child whose address space may grow only a little, so that an unbounded allocation fails
// there (std::bad_alloc, an abort) instead of exhausting the machine running the tests.
#ifndef HNET_TESTS_MEMORY_LIMIT_H_
#define HNET_TESTS_MEMORY_LIMIT_H_

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>

namespace hnet::testing {

// The process's current virtual memory size in bytes (VmSize of /proc/self/status), 0 where
// /proc does not say.
inline uint64_t VirtualMemoryBytes() {
  std::FILE* status = std::fopen("/proc/self/status", "re");
  if (status == nullptr) return 0;
  unsigned long long kib = 0;
  char line[256];
  while (std::fgets(line, sizeof(line), status) != nullptr) {
    if (std::sscanf(line, "VmSize: %llu kB", &kib) == 1) break;
  }
  std::fclose(status);
  return static_cast<uint64_t>(kib) * 1024;
}

// Forks and runs `check` in the child with RLIMIT_AS set to its current size plus `headroom`
// bytes; the child exits without running destructors. True when `check` returned true; false
// when it returned false, threw (e.g. std::bad_alloc), crashed or aborted, or the child could
// not be started. `check` must not rely on threads of the parent; it may print to stderr
// to say what went wrong.
inline bool RunWithMemoryHeadroom(uint64_t headroom, const std::function<bool()>& check) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    const uint64_t now = VirtualMemoryBytes();
    if (now == 0) ::_exit(3);
    const struct rlimit limit = {static_cast<rlim_t>(now + headroom),
                                 static_cast<rlim_t>(now + headroom)};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(3);
    // Nothing may escape into the child's copy of the test runner, which would go on to run
    // the remaining tests a second time.
    bool passed = false;
    try {
      passed = check();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "memory-limited child threw: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "memory-limited child threw\n");
    }
    std::fflush(nullptr);
    ::_exit(passed ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return false;
  if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "memory-limited child died of signal %d\n", WTERMSIG(status));
    return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace hnet::testing

#endif  // HNET_TESTS_MEMORY_LIMIT_H_
