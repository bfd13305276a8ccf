// Logging for hnet: a thin wrapper over spdlog so call sites do not depend on its API.
#ifndef HNET_CORE_LOG_H_
#define HNET_CORE_LOG_H_

#include <spdlog/spdlog.h>

#include "absl/strings/string_view.h"

namespace hnet::log {

template <typename... Args>
void Info(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::info(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void Warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::warn(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void Error(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::error(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void Debug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::debug(fmt, std::forward<Args>(args)...);
}

// Sends log lines to stderr (stdout stays for program output) and sets the level from
// "debug", "info", "warn" or "error"; unknown names mean info. Call once from main().
void Init(absl::string_view level);

}  // namespace hnet::log

#endif  // HNET_CORE_LOG_H_
