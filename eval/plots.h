// Figures with gnuplot: each figure is a script (kept next to the PNG, so it can be re-run
// or edited) that reads CSV data files written by the experiments. When no gnuplot is on
// PATH, figures are skipped with one warning and the report says so; the data still exist.
#ifndef HNET_EVAL_PLOTS_H_
#define HNET_EVAL_PLOTS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hnet::eval {

// A CSV file: a header row and rows of cells (numbers formatted with %.8g).
class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> header) : header_(std::move(header)) {}
  // Appends a row of numbers (each formatted %.8g) or of cells (quoted on Write where CSV
  // needs it). Its length is not checked against the header's: callers keep them equal.
  void AddRow(const std::vector<double>& values);
  void AddRow(const std::vector<std::string>& cells);
  // Writes the table; the error names the path.
  absl::Status Write(const std::string& path) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Renders gnuplot scripts into PNGs under one directory. Thread-compatible.
class Plotter {
 public:
  // `figures_dir` receives <name>.gp and <name>.png. `enabled` false skips all figures.
  // Probes gnuplot once (pngcairo terminal, else png). `deferred` writes the pngcairo
  // scripts without running gnuplot (a headless box): render them later from figures_dir.
  Plotter(std::string figures_dir, bool enabled, bool deferred = false);

  bool available() const { return !terminal_.empty(); }
  bool deferred() const { return deferred_; }
  // Why figures are skipped (empty when available).
  const std::string& unavailable_reason() const { return reason_; }

  // Writes <name>.gp (terminal and output lines, then `body`) and runs gnuplot on it from
  // figures_dir, so paths in `body` are relative to it and the folder can be moved.
  // Returns the PNG's file name relative to figures_dir, or an error naming the script and
  // gnuplot's message. When unavailable: FailedPrecondition (callers log and carry on).
  // Deferred: the script only, and the PNG name it will draw.
  absl::StatusOr<std::string> Render(absl::string_view name, int width, int height,
                                     absl::string_view body) const;

 private:
  std::string dir_;
  std::string terminal_;  // "pngcairo" or "png"; empty when unavailable.
  std::string reason_;
  bool deferred_ = false;
};

// Quotes a path for a gnuplot script (single quotes; embedded ones doubled).
std::string GnuplotQuote(absl::string_view path);

}  // namespace hnet::eval

#endif  // HNET_EVAL_PLOTS_H_
