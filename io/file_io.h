// Whole-file reads and atomic whole-file writes: checkpoints, the client's outputs, reports.
#ifndef HNET_IO_FILE_IO_H_
#define HNET_IO_FILE_IO_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hnet::io {

// The bytes of the file at `path`; NOT_FOUND if it does not exist, INVALID_ARGUMENT for a
// directory, PERMISSION_DENIED or UNKNOWN for other failures, each naming the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Takes the next bytes of a file being written; a non-OK status abandons the write.
using ByteSink = absl::FunctionRef<absl::Status(absl::string_view bytes)>;

// Writes the file at `path` with the bytes `produce` passes to its sink, in order, without
// holding them all in memory. `path` is resolved through symlinks first (the link stays, its
// target gets the bytes). A regular file, or a new one, is written to a fresh
// target + ".tmp.XXXXXX" beside the target, synced, renamed over it and the directory synced,
// so neither a failure nor a crash leaves a half-written file there; an existing file keeps its
// permission bits, a new one gets 0666 minus the umask. Where IsWrittenInPlace(path) (a
// device such as /dev/null, a FIFO, /dev/stdout whatever it is) the bytes are appended in
// place, never replaced. INVALID_ARGUMENT for a directory; errors of `produce` are returned as
// they are. Thread-safe; concurrent writers of one regular file each leave a whole file (the
// last rename wins).
absl::Status WriteFileFrom(const std::string& path,
                           absl::FunctionRef<absl::Status(ByteSink sink)> produce);

// `path` with the symlinks of its last component followed (at most 40), the way open(2)
// would; a dangling link resolves to the path it names. INVALID_ARGUMENT (ELOOP) for a loop.
absl::StatusOr<std::string> ResolveLinks(const std::string& path);

// Whether WriteFileFrom writes `path` in place (appending) instead of replacing it: a path
// under /dev or /proc (/dev/stdout, /dev/null, /proc/self/fd/N) or one naming, through
// symlinks, an existing file that is neither regular nor a directory.
bool IsWrittenInPlace(const std::string& path);

// WriteFileFrom with the bytes `bytes`.
absl::Status WriteFile(const std::string& path, absl::string_view bytes);

// Unlinks the temporary files that WriteFileFrom is writing at this moment (at most 64 at a
// time are tracked, paths under 4 KiB). Async-signal-safe: meant for a handler of fatal
// signals (SIGINT, SIGTERM) that then re-raises the signal, so that a killed process leaves
// no "*.tmp.XXXXXX" files behind.
void RemovePendingTemporaryFiles();

}  // namespace hnet::io

#endif  // HNET_IO_FILE_IO_H_
