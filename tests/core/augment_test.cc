#include "core/augment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <utility>

#include "core/rng.h"

namespace hnet::core {
namespace {

// Reference translation by (dy, dx) with zero fill, one pixel at a time.
at::Tensor ShiftByHand(const at::Tensor& image, int64_t dy, int64_t dx) {
  at::Tensor out = torch::zeros_like(image);
  const int64_t h = image.size(1), w = image.size(2);
  auto in = image.accessor<float, 3>();
  auto o = out.accessor<float, 3>();
  for (int64_t c = 0; c < image.size(0); ++c) {
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        const int64_t sy = y - dy, sx = x - dx;
        if (sy >= 0 && sy < h && sx >= 0 && sx < w) o[c][y][x] = in[c][sy][sx];
      }
    }
  }
  return out;
}

TEST(ShiftImages, MatchesPixelwiseTranslationWithZeroFill) {
  torch::manual_seed(3);
  at::Tensor images = torch::rand({5, 2, 7, 9});
  at::Tensor shifts = torch::tensor({{0, 2, -2, 1, -1}, {0, -2, 1, 2, 0}}, torch::kLong);
  at::Tensor out = ShiftImages(images, shifts, 2);
  ASSERT_EQ(out.sizes(), images.sizes());
  for (int64_t n = 0; n < 5; ++n) {
    at::Tensor expected =
        ShiftByHand(images[n], shifts[0][n].item<int64_t>(), shifts[1][n].item<int64_t>());
    EXPECT_TRUE(torch::equal(out[n], expected)) << "image " << n;
  }
}

TEST(RandomShift, ZeroShiftReturnsTheImagesAndDrawsNothing) {
  at::Tensor images = torch::rand({4, 1, 6, 6});
  at::Generator gen = MakeGenerator(1);
  at::Generator untouched = MakeGenerator(1);
  EXPECT_TRUE(RandomShift(images, 0, gen).is_same(images));
  EXPECT_EQ(GeneratorState(gen), GeneratorState(untouched));
}

TEST(RandomShift, EveryImageIsSomeShiftWithinRangeAndAllShiftsOccur) {
  torch::manual_seed(4);
  // Positive pixels so that a shifted-in zero is never confused with image content.
  at::Tensor images = torch::rand({400, 1, 8, 8}) + 0.5;
  at::Generator gen = MakeGenerator(9);
  at::Tensor out = RandomShift(images, 1, gen);
  std::set<std::pair<int64_t, int64_t>> seen;
  for (int64_t n = 0; n < images.size(0); ++n) {
    int matches = 0;
    for (int64_t dy = -1; dy <= 1; ++dy) {
      for (int64_t dx = -1; dx <= 1; ++dx) {
        if (torch::equal(out[n], ShiftByHand(images[n], dy, dx))) {
          ++matches;
          seen.insert({dy, dx});
        }
      }
    }
    EXPECT_EQ(matches, 1) << "image " << n;
  }
  EXPECT_EQ(seen.size(), 9u);
}

TEST(RandomShift, SameSeedGivesSameShifts) {
  at::Tensor images = torch::rand({16, 1, 10, 10});
  at::Generator a = MakeGenerator(77);
  at::Generator b = MakeGenerator(77);
  EXPECT_TRUE(torch::equal(RandomShift(images, 3, a), RandomShift(images, 3, b)));
}

TEST(ShiftImages, RejectsAShiftAsLargeAsTheImage) {
  at::Tensor images = torch::rand({1, 1, 4, 4});
  EXPECT_THROW(ShiftImages(images, torch::zeros({2, 1}, torch::kLong), 4), c10::Error);
}

}  // namespace
}  // namespace hnet::core
