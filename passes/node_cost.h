// The one node cost model of the allreduce bucketing pass (passes/allreduce_buckets.h) and the
// scaling simulator (passes/scaling_sim.h): a node's FLOPs and bytes come from its op record's cost
// function (passes/graph_cost.h), its class from the record's kind (convolution, matrix product,
// the rest), and its time from a device profile's rate for that class:
//   seconds = max(flops / class rate, bytes / memory bandwidth)   (a roofline per node)
#pragma once

#include <string>

#include "ir/graph.h"
#include "ir/op_registry.h"

namespace fc::passes {

enum class OpClass { Conv, Gemm, Other };

// Classes an op by its record's kind: Conv, fc.ConvGradData, fc.ConvGradWeight, fc.ConvRelu -> Conv;
// Gemm, MatMul -> Gemm; anything else -> Other.
OpClass op_class(const std::string& domain, const std::string& op);

// Sustained rates of one worker, per op class.
struct DeviceProfile {
  std::string name;
  double conv_flops = 0;   // FLOP/s on Conv and its gradients
  double gemm_flops = 0;   // FLOP/s on Gemm / MatMul
  double other_flops = 0;  // FLOP/s on everything else (elementwise, pooling, normalisation, loss)
  double bytes_per_s = 0;  // memory bandwidth every node is also bounded by
  std::string source;      // where the figures come from (printed with the results)
};

// One FLOP rate for every class (the bucketing pass's `device_gflops`).
DeviceProfile uniform_device(double flops_per_s, double bytes_per_s);

double node_seconds(OpClass cls, double flops, double bytes, const DeviceProfile& device);
double node_seconds(const ir::Node& node, const ir::OpCost& cost, const DeviceProfile& device);

}  // namespace fc::passes
