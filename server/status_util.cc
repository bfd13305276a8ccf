#include "server/status_util.h"

#include "absl/strings/str_cat.h"

namespace hnet::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share the canonical numbering (0..16).
  const int code = static_cast<int>(status.code());
  const auto grpc_code =
      code >= 0 && code <= 16 ? static_cast<grpc::StatusCode>(code) : grpc::StatusCode::UNKNOWN;
  return grpc::Status(grpc_code, std::string(status.message()));
}

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status LimitError(absl::string_view what, int64_t limit, absl::string_view flag,
                        absl::string_view hint) {
  return absl::ResourceExhaustedError(
      absl::StrCat(what, " exceeds the limit of ", limit, " (", flag, ")", hint));
}

}  // namespace hnet::server
