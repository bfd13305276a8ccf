#include "trainer/progress.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace hnet::trainer {

ProgressBar::ProgressBar(std::FILE* out, int64_t first_step, int64_t last_step)
    : out_(out),
      first_(first_step),
      last_(last_step),
      step_(first_step),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

double ProgressBar::steps_per_second() const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return elapsed > 0 ? static_cast<double>(step_ - first_) / elapsed : 0.0;
}

void ProgressBar::Update(int64_t step, const std::string& status) {
  step_ = step;
  const auto now = std::chrono::steady_clock::now();
  if (out_ == nullptr || (now - last_draw_ < std::chrono::milliseconds(100) && step < last_)) {
    return;
  }
  last_draw_ = now;
  constexpr int kWidth = 30;
  const double total = static_cast<double>(std::max<int64_t>(1, last_ - first_));
  const double done = static_cast<double>(step - first_) / total;
  const int filled = static_cast<int>(std::round(done * kWidth));
  const double rate = steps_per_second();
  const double eta = rate > 0 ? static_cast<double>(last_ - step) / rate : 0.0;
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(out_, "\r[%s] %lld/%lld %.2f steps/s ETA %s %s\033[K", bar.c_str(),
               static_cast<long long>(step), static_cast<long long>(last_), rate,
               FormatDuration(eta).c_str(), status.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::Break() {
  if (out_ != nullptr && drawn_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
  drawn_ = false;
}

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm%02ds", s / 3600, (s / 60) % 60, s % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace hnet::trainer
