#include "eval/progress.h"

#include <utility>

#include "core/log.h"

namespace hnet::eval {

Progress::Progress(std::string what, int64_t total, double period_seconds)
    : what_(std::move(what)),
      total_(total),
      period_(period_seconds),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::Update(int64_t done) {
  const auto now = std::chrono::steady_clock::now();
  const bool finished = done >= total_;
  if (!finished && std::chrono::duration<double>(now - last_).count() < period_) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / done : 0.0;
  if (finished) {
    log::Info("{}: {}/{} done in {:.1f} s", what_, done, total_, elapsed);
  } else {
    log::Info("{}: {}/{} ({:.0f}%), {:.0f} s elapsed, ETA {:.0f} s", what_, done, total_,
              100.0 * done / std::max<int64_t>(1, total_), elapsed, eta);
  }
}

}  // namespace hnet::eval
