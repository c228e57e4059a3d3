#include "passes/node_cost.h"

#include <algorithm>

namespace fc::passes {

OpClass op_class(const std::string& domain, const std::string& op) {
  const ir::OpSchema* s = ir::OpRegistry::global().find(op, domain);
  const ir::OpKind kind = s ? s->kind : ir::OpKind::Compute;
  return kind == ir::OpKind::Convolution     ? OpClass::Conv
         : kind == ir::OpKind::MatrixProduct ? OpClass::Gemm
                                             : OpClass::Other;
}

DeviceProfile uniform_device(double flops_per_s, double bytes_per_s) {
  DeviceProfile d;
  d.name = "uniform";
  d.conv_flops = d.gemm_flops = d.other_flops = flops_per_s;
  d.bytes_per_s = bytes_per_s;
  return d;
}

double node_seconds(OpClass cls, double flops, double bytes, const DeviceProfile& device) {
  const double rate = cls == OpClass::Conv ? device.conv_flops
                      : cls == OpClass::Gemm ? device.gemm_flops
                                             : device.other_flops;
  return std::max(flops / rate, bytes / device.bytes_per_s);
}

double node_seconds(const ir::Node& node, const ir::OpCost& cost, const DeviceProfile& device) {
  return node_seconds(op_class(node.domain, node.op), cost.flops, cost.bytes, device);
}

}  // namespace fc::passes
