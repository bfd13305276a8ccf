// A single-line terminal progress bar with steps/s and ETA.
#ifndef HNET_TRAINER_PROGRESS_H_
#define HNET_TRAINER_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace hnet::trainer {

// Draws to `out` (not owned; nullptr disables drawing). Not thread-safe.
class ProgressBar {
 public:
  ProgressBar(std::FILE* out, int64_t first_step, int64_t last_step);

  // Redraws for `step` (completed steps) with a short status text; throttled to ~10 Hz.
  void Update(int64_t step, const std::string& status);
  // Ends the bar's line so that log lines start on a fresh line.
  void Break();
  double steps_per_second() const;

 private:
  std::FILE* out_;
  int64_t first_;
  int64_t last_;
  int64_t step_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1h02m03s" style duration.
std::string FormatDuration(double seconds);

}  // namespace hnet::trainer

#endif  // HNET_TRAINER_PROGRESS_H_
