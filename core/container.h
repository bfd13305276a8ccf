// The verified file container shared by hypernetwork checkpoints and weight ensembles.
//
// Layout: an 8-byte magic naming the kind of file ("HNETCKPT" checkpoint, "HNETWENS" weight
// ensemble), format version (u32 LE), CRC-32 of the payload (u32 LE), payload length (u64 LE), then
// the payload (a serialized protobuf message). Files are written atomically (temp file, fsync,
// rename) and are either read whole and verified or refused with a reason.
#ifndef HNET_CORE_CONTAINER_H_
#define HNET_CORE_CONTAINER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hnet::core {

// What a container holds: its 8-byte magic and a human name for error messages.
struct ContainerKind {
  absl::string_view magic;  // Exactly 8 bytes.
  absl::string_view name;   // e.g. "checkpoint"; used as "<name> <path>: <reason>".
};

// A hypernetwork checkpoint (core/checkpoint.h).
inline constexpr ContainerKind kCheckpointContainer{"HNETCKPT", "checkpoint"};
// A set of explicit target networks (core/weight_ensemble.h).
inline constexpr ContainerKind kWeightEnsembleContainer{"HNETWENS", "weight ensemble"};

// The largest payload a container holds: protobuf's limit for one message (2 GiB - 1).
inline constexpr uint64_t kMaxContainerPayloadBytes = 0x7fffffff;

// Writes header + `payload` to `path` atomically (a crash leaves the old file or the new one),
// creating the parent directory, with io::WriteFileFrom: a fresh temporary file beside the
// target, created exclusively, synced, renamed onto the target, the directory synced. When
// `path` is a symlink (latest.hnet -> run3.hnet) the file it names is replaced and the link
// stays; a device or FIFO (/dev/null) is written in place, never replaced. A replaced file keeps
// its permission bits; a new one gets 0666 less the umask. InvalidArgument for a payload above
// kMaxContainerPayloadBytes, a directory or a loop of symlinks; errors start with
// "cannot write <kind.name> <path>". Thread-safe; concurrent writers of one path each leave a
// whole file.
absl::Status WriteContainerFile(const std::string& path, const ContainerKind& kind,
                                uint32_t version, const std::string& payload);

// Reads and verifies a container of `kind` with format `version`; returns the payload. The
// header is checked before any memory is set aside for the payload, so a huge file that is no
// container (or claims a payload above kMaxContainerPayloadBytes) costs one 24-byte read.
// NotFound if missing; PermissionDenied if unreadable; InvalidArgument if not a regular file (a
// FIFO or device is refused without opening it), a symlink loop or too long a path, or another
// known kind of hnet file (the message says which); Unavailable for transient I/O errors;
// DataLoss if truncated, padded, corrupted, larger than the limit or not an hnet file;
// FailedPrecondition for another format version; ResourceExhausted when the payload's memory
// cannot be allocated. Messages start with "<kind.name> <path>" (another kind's with the
// path). Sets *payload_crc (when not null) to the verified CRC-32 of the payload.
absl::StatusOr<std::string> ReadContainerFile(const std::string& path, const ContainerKind& kind,
                                              uint32_t version, uint32_t* payload_crc = nullptr);

}  // namespace hnet::core

#endif  // HNET_CORE_CONTAINER_H_
