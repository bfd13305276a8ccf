// The layout of a --models directory (TF-Serving style):
//   <dir>/<name>.hnet              a single-version model: version 1
//   <dir>/<name>/<version>.hnet    version <version> (an integer >= 1) of model <name>
// Names match [A-Za-z0-9._-]+. Files not ending in .hnet (e.g. "x.hnet.tmp.123" written
// before a rename) are ignored silently; anything else that cannot be served is skipped with
// a reason. When <name>.hnet and <name>/1.hnet both exist, the latter wins.
#ifndef HNET_SERVER_MODEL_DIRECTORY_H_
#define HNET_SERVER_MODEL_DIRECTORY_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hnet::server {

// What identifies a file's state: a rename, a write or a truncation changes at least one.
struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;

  bool operator==(const FileStamp& o) const {
    return size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns && inode == o.inode;
  }
  bool operator!=(const FileStamp& o) const { return !(*this == o); }
};

// One servable checkpoint file of the directory.
struct CheckpointFile {
  std::string name;
  int64_t version = 1;
  std::string path;
  FileStamp stamp;
};

struct DirectoryScan {
  std::vector<CheckpointFile> files;  // By name, then highest version first.
  std::vector<std::string> skipped;   // One reason per skipped entry, naming it.
  // Names whose version folder or files could not be listed or stat'ed this time (not
  // because they are gone): a rescan leaves their loaded versions as they are.
  std::set<std::string> unreadable;
};

// The stamp of `path` (stat, following symlinks); NOT_FOUND naming it when missing,
// UNAVAILABLE for other failures (permissions, I/O).
absl::StatusOr<FileStamp> StatFile(const std::string& path);

// Lists the checkpoints of `dir` without reading them (directory entries and stats only).
// NOT_FOUND when `dir` is not a directory; UNAVAILABLE naming it when it cannot be listed
// (opening or reading it fails: permissions, EMFILE, EIO/ESTALE). Never throws.
// Thread-compatible.
absl::StatusOr<DirectoryScan> ScanModelDirectory(const std::string& dir);

}  // namespace hnet::server

#endif  // HNET_SERVER_MODEL_DIRECTORY_H_
