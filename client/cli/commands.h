// The `hnet` command-line client: one function per subcommand. Each writes its report to
// `out` and returns the first error (main() prints it).
#ifndef HNET_CLIENT_CLI_COMMANDS_H_
#define HNET_CLIENT_CLI_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/client.h"

namespace hnet::cli {

struct SampleArgs {
  int64_t model_version = 0;     // 0: the latest
  std::optional<int32_t> n;      // default: 1, or the rows of z_file
  std::optional<uint64_t> seed;  // default: 0 unless z_file is set
  std::string z_file;            // .npy float32/float64 [n, z_dim] or [z_dim]
  bool gauge_fixed = false;
  bool permutation_gauge = false;
  bool return_z = false;
  std::string out_dir;  // one <layer>.npy per layer (and z.npy)
  std::string npz;      // one .npz with every layer
  std::string pt;       // one torch.load-able .pt with every layer
};

struct ClassifyArgs {
  int64_t model_version = 0;        // 0: the latest, pinned for every batch
  std::vector<std::string> images;  // one IDX(.gz) file, or PNG files
  std::string labels;               // optional IDX(.gz) labels
  int32_t ensemble_size = 10;
  uint64_t seed = 0;
  std::string rule = "mean";  // mean, vote, confident
  int64_t limit = 0;          // first `limit` inputs; 0: all
  int64_t batch = 1000;       // inputs per request
  int64_t show = 10;          // predictions printed
};

struct PathArgs {
  int64_t model_version = 0;  // 0: the latest
  uint64_t start_seed = 0;
  uint64_t end_seed = 1;
  int32_t points = 11;
  std::string mode = "both";  // both, direct, interpolated
  std::string images;         // optional IDX(.gz) inputs and labels; default: server's split
  std::string labels;
  int64_t limit = 0;
  std::string csv;  // optional CSV output
};

// `model`, or the server's only model name when `model` is empty; INVALID_ARGUMENT naming
// --model when the server has several or none.
absl::StatusOr<std::string> ResolveModel(const client::Client& client, const std::string& model);

// `info`: the description of version `version` (0: the latest) of `model`, or of every
// loaded model version when `model` is empty.
absl::Status RunInfo(const client::Client& client, const std::string& model, int64_t version,
                     std::ostream& out);

// Checks of the arguments alone (no files read, no server asked), INVALID_ARGUMENT naming the
// flag (--model_version included); main() runs them before connecting, and each Run* runs its
// own first.
absl::Status CheckSampleArgs(const SampleArgs& args);
absl::Status CheckClassifyArgs(const ClassifyArgs& args);
absl::Status CheckPathArgs(const PathArgs& args);

// Checks of the output destinations of `sample` and `path` (files stat'ed, nothing written,
// no server asked; see outputs.h), errors naming the flag. main() runs them before
// connecting, and each Run* runs its own before calling the server.
absl::Status CheckSampleOutputs(const SampleArgs& args);
absl::Status CheckPathOutputs(const PathArgs& args);

// `sample`: generates networks and writes the requested files. Streams them
// (StreamWeights) past 90 % of the client's message limit or when the server refuses that
// many in one SampleWeights call (RESOURCE_EXHAUSTED); streamed networks wait on disk until
// the files are written (spool.h), so memory stays bounded whatever n, and the files hold the
// same bytes either way. A call out of time is DEADLINE_EXCEEDED naming --deadline.
absl::Status RunSample(const client::Client& client, const std::string& model,
                       const SampleArgs& args, std::ostream& out);

// `classify`: ensemble predictions, and accuracy when labels are given.
absl::Status RunClassify(const client::Client& client, const std::string& model,
                         const ClassifyArgs& args, std::ostream& out);

// `path`: accuracy along the interpolation paths; table to `out`, optionally CSV.
absl::Status RunPath(const client::Client& client, const std::string& model, const PathArgs& args,
                     std::ostream& out);

}  // namespace hnet::cli

#endif  // HNET_CLIENT_CLI_COMMANDS_H_
