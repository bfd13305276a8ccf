// Permission tests that root would bypass: runs a check as the unprivileged user "nobody"
// (uid and gid 65534) in a forked child.
#ifndef HNET_TESTS_AS_NOBODY_H_
#define HNET_TESTS_AS_NOBODY_H_

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace hnet::testing {

enum class AsNobody { kPassed, kFailed, kUnavailable };

// Forks, drops to "nobody" and runs `check` in the child (which then exits without running
// destructors). kUnavailable when the child could not be started or could not drop its
// privileges. `check` must not rely on threads of the parent.
inline AsNobody RunAsNobody(const std::function<bool()>& check) {
  const pid_t child = ::fork();
  if (child < 0) return AsNobody::kUnavailable;
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    ::_exit(check() ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return AsNobody::kFailed;
  switch (WEXITSTATUS(status)) {
    case 0:
      return AsNobody::kPassed;
    case 2:
      return AsNobody::kUnavailable;
    default:
      return AsNobody::kFailed;
  }
}

}  // namespace hnet::testing

#endif  // HNET_TESTS_AS_NOBODY_H_
