#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace hnet::log {

void Init(absl::string_view level) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("hnet"));
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace hnet::log
