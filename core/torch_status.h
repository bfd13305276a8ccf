// Conversion of LibTorch exceptions into absl::Status at the library's boundaries.
#ifndef HNET_CORE_TORCH_STATUS_H_
#define HNET_CORE_TORCH_STATUS_H_

#include <c10/util/Exception.h>

#include <exception>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace hnet::core {

// Runs fn() and converts a thrown c10::Error (or std::exception) into an absl::Status whose
// message starts with `what`. fn returns void, absl::Status, T or absl::StatusOr<T>.
template <typename Fn>
auto TorchCall(absl::string_view what, Fn&& fn) {
  using R = std::invoke_result_t<Fn>;
  using Out = std::conditional_t<
      std::is_void_v<R>, absl::Status,
      std::conditional_t<std::is_same_v<R, absl::Status>, absl::Status,
                         std::conditional_t<std::is_convertible_v<absl::Status, R>, R,
                                            absl::StatusOr<R>>>>;
  try {
    if constexpr (std::is_void_v<R>) {
      fn();
      return Out(absl::OkStatus());
    } else {
      return Out(fn());
    }
  } catch (const c10::Error& e) {
    return Out(absl::InternalError(absl::StrCat(what, ": ", e.what_without_backtrace())));
  } catch (const std::exception& e) {
    return Out(absl::InternalError(absl::StrCat(what, ": ", e.what())));
  }
}

}  // namespace hnet::core

#endif  // HNET_CORE_TORCH_STATUS_H_
