// Gauge fixing (paper section 3.2.2): maps a network to a canonical representative of its
// class under the trivial symmetries, without changing the function it computes. Stateless,
// batched over N networks, differentiable (the permutation itself is piecewise constant).
#ifndef HNET_CORE_GAUGE_H_
#define HNET_CORE_GAUGE_H_

#include "core/target_forward.h"
#include "core/target_spec.h"

namespace hnet::core {

// Scale gauge and logits-bias gauge. For l = 1 .. m-1 in order: s_i = sqrt(|filter_i|^2 / S_l
// + 1e-8) over weights and bias; filter i of layer l is divided by s_i and input channel i of
// every filter of layer l+1 multiplied by s_i, so that |filter_i|^2 = S_l (up to the guard).
// Then the last layer's biases have their mean subtracted so they sum to 0.
WeightBatch ScaleGauge(const TargetLayout& layout, const WeightBatch& weights);

// Permutation gauge: for each hidden layer, filters are sorted in ascending lexicographic
// order of their (weights..., bias) vectors, and the next layer's input channels are permuted
// to match. The sort is stable: filters that are exactly equal keep their relative order, so
// the gauge is idempotent; such ties are the only case where two networks related by a
// permutation may keep different representatives (they differ only in the next layer's
// columns for identical filters). Apply after ScaleGauge so the key is scale-free.
WeightBatch PermutationGauge(const TargetLayout& layout, const WeightBatch& weights);

// ScaleGauge, then PermutationGauge when `permutation` is true.
WeightBatch GaugeFix(const TargetLayout& layout, const WeightBatch& weights, bool scale,
                     bool permutation);

}  // namespace hnet::core

#endif  // HNET_CORE_GAUGE_H_
