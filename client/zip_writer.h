// A minimal ZIP writer: stored (uncompressed) entries, optionally aligned, no ZIP64. Enough
// for NumPy .npz and PyTorch's zip serialization format.
#ifndef HNET_CLIENT_ZIP_WRITER_H_
#define HNET_CLIENT_ZIP_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hnet::client {

// CRC-32 (IEEE 802.3, as in zip and gzip) of `data`.
uint32_t Crc32(absl::string_view data);

class ZipWriter {
 public:
  // Appends an entry `name` holding `data`. With alignment > 1 the data starts at a multiple
  // of `alignment` bytes from the start of the archive (padding goes into the local header's
  // extra field, as PyTorch does). INVALID_ARGUMENT for an empty, duplicate or over-long
  // name, alignment < 1, or when the archive would pass 4 GiB or 65,535 entries (ZIP64).
  absl::Status Add(absl::string_view name, absl::string_view data, int alignment = 1);

  // The finished archive (entries, central directory, end record). The writer is left
  // empty, ready for a new archive.
  std::string Finish();

 private:
  struct Entry {
    std::string name;
    uint32_t crc;
    uint32_t size;
    uint32_t offset;
  };
  std::string out_;
  std::vector<Entry> entries_;
};

}  // namespace hnet::client

#endif  // HNET_CLIENT_ZIP_WRITER_H_
