// Targeted fast gradient sign attacks (Goodfellow et al.; paper section 4.2.3) on generated
// networks and ensembles. The perturbation descends the cross-entropy of the target class:
// x' = x - eps * sign(grad_x CE(p(x), y')), without clipping to [0, 1] (as the reference).
// For an ensemble p is the members' mean probability, so the gradient goes through all of
// them (white-box); with one member it is the paper's single-network attack.
#ifndef HNET_EVAL_ADVERSARIAL_H_
#define HNET_EVAL_ADVERSARIAL_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/target_forward.h"
#include "core/target_spec.h"

namespace hnet::eval {

// sign(grad_x CE(mean_n softmax(f_n(x)), target)) for N >= 1 networks `weights`, images x
// [M, C, H, W] and target labels [M]: [M, C, H, W] float32 on CPU (values -1, 0, 1).
// Computed in chunks of `images_per_pass` images on the weights' device.
at::Tensor TargetedGradientSign(const core::TargetLayout& layout, const core::WeightBatch& weights,
                                const at::Tensor& images, const at::Tensor& targets,
                                int64_t images_per_pass = 64);

// A random target label != label for each of labels [M] (classes K), from `generator`.
at::Tensor RandomTargets(const at::Tensor& labels, int64_t classes, at::Generator& generator);

// The perturbation sizes of the paper: 0, 2, ..., 58 on the 0..255 scale, as fractions.
std::vector<double> PaperEpsilons();

// Success of an attack against one classifier or a majority-vote ensemble, per epsilon.
struct AttackCurve {
  std::vector<double> epsilons;
  std::vector<double> targeted_success;    // Fraction predicted as the target label.
  std::vector<double> untargeted_success;  // Fraction predicted as anything but the label.
};

// Evaluates x - eps * signs for each eps on the networks `weights` (N >= 1; N > 1 takes the
// majority vote, the paper's ensemble rule), against labels and targets [M].
AttackCurve EvaluateAttack(const core::TargetLayout& layout, const core::WeightBatch& weights,
                           const at::Tensor& images, const at::Tensor& signs,
                           const at::Tensor& labels, const at::Tensor& targets,
                           const std::vector<double>& epsilons);

}  // namespace hnet::eval

#endif  // HNET_EVAL_ADVERSARIAL_H_
