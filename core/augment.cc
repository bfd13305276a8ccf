#include "core/augment.h"

#include <ATen/ATen.h>

namespace hnet::core {

at::Tensor ShiftImages(const at::Tensor& images, const at::Tensor& shifts, int64_t max_shift) {
  TORCH_CHECK(images.dim() == 4, "ShiftImages: images must be [N, C, H, W]");
  TORCH_CHECK(shifts.dim() == 2 && shifts.size(0) == 2 && shifts.size(1) == images.size(0),
              "ShiftImages: shifts must be [2, N]");
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  TORCH_CHECK(max_shift >= 0 && max_shift < h && max_shift < w,
              "ShiftImages: max_shift must be in [0, min(H, W))");
  if (max_shift == 0) return images;
  const int64_t s = max_shift;
  at::Tensor padded = at::constant_pad_nd(images, {s, s, s, s}, 0);  // [N, C, H+2s, W+2s]
  const auto long_options = at::TensorOptions().dtype(at::kLong).device(images.device());
  at::Tensor d = shifts.to(long_options);
  // Output row y reads padded row y + s - dy; output column x reads padded column x + s - dx.
  at::Tensor rows = (at::arange(h, long_options).view({1, h}) + s - d[0].view({n, 1}))
                        .view({n, 1, h, 1})
                        .expand({n, c, h, w + 2 * s});
  at::Tensor cols = (at::arange(w, long_options).view({1, w}) + s - d[1].view({n, 1}))
                        .view({n, 1, 1, w})
                        .expand({n, c, h, w});
  return padded.gather(2, rows).gather(3, cols);
}

at::Tensor DrawShifts(int64_t n, int64_t max_shift, at::Generator& generator) {
  return at::randint(-max_shift, max_shift + 1, {2, n}, generator,
                     at::TensorOptions().dtype(at::kLong));
}

at::Tensor RandomShift(const at::Tensor& images, int64_t max_shift, at::Generator& generator) {
  if (max_shift == 0) return images;
  return ShiftImages(images, DrawShifts(images.size(0), max_shift, generator), max_shift);
}

}  // namespace hnet::core
