// `hnet sample` past one message: the networks of a StreamWeights call go to disk as they
// arrive (one unnamed temporary file per layer, and one for z), so that memory stays bounded
// whatever -n; the output files are then written from those files.
#ifndef HNET_CLIENT_CLI_SPOOL_H_
#define HNET_CLIENT_CLI_SPOOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/npy.h"
#include "client/types.h"

namespace hnet::cli {

// Bytes appended to an unnamed temporary file (gone when closed, or when the process dies),
// through a write buffer of at most kBufferBytes, with their running CRC-32.
class SpoolFile {
 public:
  static constexpr size_t kBufferBytes = size_t{1} << 20;

  // A new, empty spool file in the directory `dir`; errors name `dir`.
  static absl::StatusOr<std::unique_ptr<SpoolFile>> Create(const std::string& dir);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  // Appends `bytes`; a write error (e.g. ENOSPC) names the directory.
  absl::Status Append(absl::string_view bytes);
  // Passes every byte appended so far, in order, to `sink` in pieces of at most
  // kBufferBytes. May be called several times.
  absl::Status ReadAll(io::ByteSink sink);

  uint64_t size() const { return size_; }
  uint32_t crc32() const { return crc_; }
  // Bytes held in memory: the pending write buffer.
  size_t buffered_bytes() const { return buffer_.size(); }

 private:
  SpoolFile(int fd, std::string dir) : fd_(fd), dir_(std::move(dir)) {}
  // Writes `bytes` to the file, past what is there.
  absl::Status Write(absl::string_view bytes);
  // Writes the buffer to the file and empties it.
  absl::Status Flush();

  const int fd_;
  const std::string dir_;
  std::string buffer_;
  uint64_t size_ = 0;
  uint32_t crc_ = 0;
};

// The networks of one StreamWeights call, stacked on disk: layer l as [n, F_l, S_l] and z as
// [n, z_dim], the layout of a SampleWeights result.
class NetworkSpool {
 public:
  // A spool for `expected` networks (with their z when `with_z`), its files in `dir`.
  NetworkSpool(std::string dir, int64_t expected, bool with_z);

  // Appends `network`. INTERNAL when its layers (count, names, dtypes, shapes) or z differ
  // from the first network's, or when more than `expected` arrive; write errors as they are.
  absl::Status Add(const client::GeneratedNetwork& network);

  // Networks requested, and added so far.
  int64_t expected() const { return expected_; }
  int64_t count() const { return count_; }
  // The model version of the first network.
  const client::ModelVersion& model() const { return model_; }
  // Bytes held in memory by the spool (write buffers), whatever count().
  size_t buffered_bytes() const;

  // The stacked tensors, named as the layers, then "z" when requested; each source reads its
  // spool file back. INTERNAL unless count() == expected. The spool must outlive them.
  absl::StatusOr<client::NamedTensorSources> Sources();

 private:
  struct Part {
    std::string name;
    client::DType dtype = client::DType::kUnspecified;
    std::vector<int64_t> shape;  // of one network
    std::unique_ptr<SpoolFile> file;
  };
  absl::Status Append(Part& part, const client::Tensor& tensor);

  const std::string dir_;
  const int64_t expected_;
  const bool with_z_;
  int64_t count_ = 0;
  client::ModelVersion model_;
  std::vector<Part> parts_;  // the layers in order, then z
};

}  // namespace hnet::cli

#endif  // HNET_CLIENT_CLI_SPOOL_H_
