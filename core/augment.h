// Training-time data augmentation for image batches.
#ifndef HNET_CORE_AUGMENT_H_
#define HNET_CORE_AUGMENT_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace hnet::core {

// Translates each image of `images` [N, C, H, W] by its own (dy, dx), each drawn uniformly
// from [-max_shift, max_shift] with `generator` (2 N draws), filling uncovered pixels with 0:
// out[n, c, y, x] = images[n, c, y - dy, x - dx]. Returns a new tensor on images' device;
// max_shift == 0 returns `images` and draws nothing. Requires 0 <= max_shift < min(H, W).
at::Tensor RandomShift(const at::Tensor& images, int64_t max_shift, at::Generator& generator);

// Draws n shifts for RandomShift / ShiftImages: int64 CPU [2, n], each entry uniform in
// [-max_shift, max_shift] (dy in row 0, dx in row 1), 2 n draws from `generator`.
at::Tensor DrawShifts(int64_t n, int64_t max_shift, at::Generator& generator);

// The same translation with given shifts: `shifts` int64 [2, N] holds dy in row 0 and dx in
// row 1, each in [-max_shift, max_shift].
at::Tensor ShiftImages(const at::Tensor& images, const at::Tensor& shifts, int64_t max_shift);

}  // namespace hnet::core

#endif  // HNET_CORE_AUGMENT_H_
