// Loss fusion: fc.SoftmaxCrossEntropy and the fc.SoftmaxCrossEntropyGrad autodiff made for it
// (Node::gradient_of) become one fc.SoftmaxCrossEntropyAndGrad node (loss, dlogits), whose
// kernel computes the softmax once for both (ir/ops/softmax_cross_entropy.h).
//
// Legal only when the gradient's seed dloss does not depend on the loss (in a training graph it is
// the constant 1 the gradient starts from), and when nothing reads the loss between the two nodes:
// the fused node takes the gradient's place, later than the loss was computed. The program is the
// one both nodes run alone, so fusing changes no result.
#pragma once

#include <cstdint>

#include "ir/graph.h"

namespace fc::passes {

// How many loss/gradient pairs were fused.
int64_t fuse_loss_gradient(ir::Graph& g);

}  // namespace fc::passes
