#include "core/log.h"

namespace hnet::log {

void SetLevel(absl::string_view level) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace hnet::log
