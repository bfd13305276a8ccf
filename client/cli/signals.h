// Signal handling of the `hnet` CLI.
#ifndef HNET_CLIENT_CLI_SIGNALS_H_
#define HNET_CLIENT_CLI_SIGNALS_H_

namespace hnet::cli {

// Installs handlers for SIGINT, SIGTERM and SIGHUP (those not ignored) that remove the
// temporary files being written (io::RemovePendingTemporaryFiles) and then re-raise the
// signal with its default action, so the process still dies of it. Call once, early in main.
void InstallTemporaryFileCleanup();

}  // namespace hnet::cli

#endif  // HNET_CLIENT_CLI_SIGNALS_H_
