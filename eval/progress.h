// Progress of long evaluation steps as log lines with counts, rate and ETA.
#ifndef HNET_EVAL_PROGRESS_H_
#define HNET_EVAL_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace hnet::eval {

// Logs "<what>: done/total (pct), elapsed, ETA" at most every `period_seconds` and at the
// end. Not thread-safe: one owner updates it.
class Progress {
 public:
  Progress(std::string what, int64_t total, double period_seconds = 10.0);
  // Records that `done` of `total` units are complete (monotone; the last call logs).
  void Update(int64_t done);

 private:
  std::string what_;
  int64_t total_;
  double period_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace hnet::eval

#endif  // HNET_EVAL_PROGRESS_H_
