// Diversity terms of the hypernetwork loss (paper eq. 3 and appendix A.5). Stateless and
// differentiable; samples are one row per generated network.
#ifndef HNET_CORE_DIVERSITY_H_
#define HNET_CORE_DIVERSITY_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "hnet/v1/config.pb.h"

namespace hnet::core {

enum class Metric { kL2, kL1 };

// Kozachenko-Leonenko entropy estimate of samples [N, D] (N >= 2):
//   H = psi(N) + (d / N) * sum_i log(eps_i + 1e-8)
// with eps_i the distance (L2 or L1) from sample i to its nearest other sample, as the paper
// trains. With with_constants, adds -psi(1) + log(V_d), the volume of the unit ball of the
// metric in d dimensions, giving the full estimator (comparable to analytic entropies when
// d = D). Returns a 0-dim tensor on the samples' device.
at::Tensor KozachenkoLeonenkoEntropy(const at::Tensor& samples, int64_t d, Metric metric,
                                     bool with_constants = false);

// Total variance of samples [N, D]: sum over the D coordinates of the (biased) variance.
at::Tensor TotalVariance(const at::Tensor& samples);

// The diversity (to be maximised) selected by config for samples [N, D]; d defaults to
// z_dim when config.entropy_dim() is 0. Kind NONE returns 0.
at::Tensor Diversity(const hnet::v1::DiversityConfig& config, const at::Tensor& samples,
                     int64_t z_dim);

}  // namespace hnet::core

#endif  // HNET_CORE_DIVERSITY_H_
