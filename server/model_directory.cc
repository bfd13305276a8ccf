#include "server/model_directory.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/model_registry.h"

namespace hnet::server {
namespace {

namespace fs = std::filesystem;

constexpr char kExtension[] = ".hnet";

bool IsCheckpointFile(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.path().extension() == kExtension && entry.is_regular_file(ec);
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The checkpoints of a version folder <dir>/<name>/: version -> path. UNAVAILABLE naming the
// folder when it cannot be listed (permissions, EMFILE, I/O errors).
absl::StatusOr<std::map<int64_t, std::string>> ScanVersions(const fs::path& folder,
                                                            const std::string& name,
                                                            std::vector<std::string>* skipped) {
  std::map<int64_t, std::string> versions;
  std::error_code ec;
  // increment(ec), not ++: a failing readdir (EIO, ESTALE on NFS) must become a status, not
  // a thrown filesystem_error.
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    if (!IsCheckpointFile(entry)) continue;
    const std::string stem = entry.path().stem().string();
    int64_t version = 0;
    if (!AllDigits(stem) || !absl::SimpleAtoi(stem, &version) || version < 1) {
      skipped->push_back(absl::StrCat("skipping ", entry.path().string(), ": model ", name,
                                      " versions are named <version>.hnet, version >= 1"));
      continue;
    }
    if (versions.count(version) != 0) {  // "7.hnet" and "007.hnet".
      skipped->push_back(absl::StrCat("skipping ", entry.path().string(), ": model ", name,
                                      " version ", version, " is already ", versions[version]));
      continue;
    }
    versions[version] = entry.path().string();
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot list ", folder.string(), ": ", ec.message()));
  }
  return versions;
}

}  // namespace

absl::StatusOr<FileStamp> StatFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    const std::string message = absl::StrCat("checkpoint ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::UnavailableError(message);
  }
  FileStamp stamp;
  stamp.size = static_cast<uint64_t>(st.st_size);
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  stamp.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  stamp.inode = static_cast<uint64_t>(st.st_ino);
  return stamp;
}

absl::StatusOr<DirectoryScan> ScanModelDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("--models ", dir, " is not a directory"));
  }
  DirectoryScan scan;
  std::map<std::string, std::map<int64_t, std::string>> found;  // name -> version -> path.
  std::map<std::string, std::string> single;                    // name -> <dir>/<name>.hnet.
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::error_code entry_ec;
    if (entry.is_directory(entry_ec)) {
      const std::string name = entry.path().filename().string();
      if (!ValidateModelName(name).ok() || name == "." || name == "..") continue;
      auto versions = ScanVersions(entry.path(), name, &scan.skipped);
      if (!versions.ok()) {
        scan.unreadable.insert(name);
        scan.skipped.push_back(
            absl::StrCat(versions.status().message(), "; model ", name, " is left as it is"));
      } else if (!versions->empty()) {
        found[name] = *std::move(versions);
      }
      continue;
    }
    if (!IsCheckpointFile(entry)) continue;
    const std::string name = entry.path().stem().string();
    if (absl::Status valid = ValidateModelName(name, "name"); !valid.ok()) {
      scan.skipped.push_back(
          absl::StrCat("skipping ", entry.path().string(), ": ", valid.message()));
      continue;
    }
    single[name] = entry.path().string();
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("--models ", dir, ": cannot list: ", ec.message()));
  }
  for (const auto& [name, path] : single) {
    std::map<int64_t, std::string>& versions = found[name];
    if (versions.count(1) != 0) {
      scan.skipped.push_back(
          absl::StrCat("skipping ", path, ": model ", name, " version 1 is already ", versions[1]));
      continue;
    }
    versions[1] = path;
  }
  for (const auto& [name, versions] : found) {
    for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
      auto stamp = StatFile(it->second);
      if (absl::IsNotFound(stamp.status())) continue;  // Deleted since it was listed.
      if (!stamp.ok()) {
        scan.unreadable.insert(name);
        scan.skipped.push_back(
            absl::StrCat(stamp.status().message(), "; model ", name, " is left as it is"));
        continue;
      }
      scan.files.push_back(CheckpointFile{name, it->first, it->second, *stamp});
    }
  }
  return scan;
}

}  // namespace hnet::server
