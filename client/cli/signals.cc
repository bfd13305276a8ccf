#include "client/cli/signals.h"

#include <signal.h>

#include "io/file_io.h"

namespace hnet::cli {
namespace {

// Async-signal-safe: unlink(2) of fixed buffers, sigaction, raise.
extern "C" void RemoveTemporariesAndReraise(int signal) {
  io::RemovePendingTemporaryFiles();
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
  raise(signal);  // delivered when the handler returns (the signal is blocked until then)
}

}  // namespace

void InstallTemporaryFileCleanup() {
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (sigaction(signal, nullptr, &old) != 0 || old.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = RemoveTemporariesAndReraise;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, nullptr);
  }
}

}  // namespace hnet::cli
