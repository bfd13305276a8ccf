// Up-front checks of the file a training run will write, so a bad path fails before hours of
// training instead of at the first save, and a finished run is not replaced by accident.
#ifndef HNET_TRAINER_OUTPUT_PATH_H_
#define HNET_TRAINER_OUTPUT_PATH_H_

#include <string>

#include "absl/status/status.h"

namespace hnet::trainer {

// Checks that `path` (the value of the flag `flag`, e.g. "--out") can take the run's output:
// not a directory, in an existing directory that accepts new files (one temporary file is
// created there and removed). An existing file is refused (ALREADY_EXISTS) unless `overwrite`
// or it is `resume_path` itself, a run continuing in place. Errors name the flag and path.
absl::Status CheckOutputPath(const std::string& flag, const std::string& path, bool overwrite,
                             const std::string& resume_path = "");

}  // namespace hnet::trainer

#endif  // HNET_TRAINER_OUTPUT_PATH_H_
