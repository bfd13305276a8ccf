// Conversion of LibTorch exceptions into absl::Status at the library's boundaries.
#ifndef HNET_CORE_TORCH_STATUS_H_
#define HNET_CORE_TORCH_STATUS_H_

#include <c10/util/Exception.h>

#include <exception>
#include <new>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace hnet::core {

// Whether `message` is the CPU allocator's refusal (a c10::Error, not a std::bad_alloc).
inline bool IsCpuAllocatorOutOfMemory(absl::string_view message) {
  return absl::StrContains(message, "DefaultCPUAllocator: not enough memory") ||
         absl::StrContains(message, "DefaultCPUAllocator: can't allocate memory");
}

// Runs fn() and converts a thrown exception into an absl::Status whose message starts with
// `what`: ResourceExhausted when memory ran out (std::bad_alloc, c10::OutOfMemoryError such as
// a CUDA OOM, the CPU allocator's c10::Error), Internal for any other c10::Error or
// std::exception. fn returns void, absl::Status, T or absl::StatusOr<T>.
template <typename Fn>
auto TorchCall(absl::string_view what, Fn&& fn) {
  using R = std::invoke_result_t<Fn>;
  using Out = std::conditional_t<
      std::is_void_v<R>, absl::Status,
      std::conditional_t<
          std::is_same_v<R, absl::Status>, absl::Status,
          std::conditional_t<std::is_convertible_v<absl::Status, R>, R, absl::StatusOr<R>>>>;
  try {
    if constexpr (std::is_void_v<R>) {
      fn();
      return Out(absl::OkStatus());
    } else {
      return Out(fn());
    }
  } catch (const c10::OutOfMemoryError& e) {
    return Out(absl::ResourceExhaustedError(absl::StrCat(what, ": ", e.what_without_backtrace())));
  } catch (const c10::Error& e) {
    const std::string message = absl::StrCat(what, ": ", e.what_without_backtrace());
    if (IsCpuAllocatorOutOfMemory(e.what_without_backtrace())) {
      return Out(absl::ResourceExhaustedError(message));
    }
    return Out(absl::InternalError(message));
  } catch (const std::bad_alloc& e) {
    return Out(
        absl::ResourceExhaustedError(absl::StrCat(what, ": out of memory (", e.what(), ")")));
  } catch (const std::exception& e) {
    return Out(absl::InternalError(absl::StrCat(what, ": ", e.what())));
  }
}

}  // namespace hnet::core

#endif  // HNET_CORE_TORCH_STATUS_H_
