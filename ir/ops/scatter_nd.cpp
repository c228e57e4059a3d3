// ScatterND (opset 11; `reduction` from 16: "none", "add", "mul"; from 18 also "max", "min"): a
// copy of data with updates written, or combined by the reduction, at the places indices name.
// indices [..., k] (i64) address data's first k dims; updates have the shape indices.shape[:-1] +
// data.shape[k:]. Negative indices count from the end. Duplicate indices apply in index order
// (the last write wins without a reduction). Kernel: runtime/cpu/kernels/scatter_nd.cpp.
//
// No gradient rule: PyTorch exports slice assignment this way (torchvision's Swin builds its
// shifted-window attention mask with it from constants); a trained value reaching one is refused
// by autodiff naming the node.
#include <string>
#include <vector>

#include "ir/op_helpers.h"
#include "support/error.h"

namespace fc::ir {
namespace {

std::vector<TensorType> scatter_nd_infer(const InferContext& ctx) {
  const Node& n = ctx.node;
  const TensorType &data = ctx.in(0), &idx = ctx.in(1), &upd = ctx.in(2);
  FC_CHECK(idx.dtype == DType::I64, n.describe(), ": indices must be i64, got ", dtype_name(idx.dtype));
  FC_CHECK(!is_storage_only_dtype(data.dtype), n.describe(), ": data of ", dtype_name(data.dtype),
           " is stored, not computed with");
  FC_CHECK(upd.dtype == data.dtype, n.describe(), ": updates are ", dtype_name(upd.dtype), ", data ",
           dtype_name(data.dtype));
  FC_CHECK(idx.rank() >= 1 && idx.dims.back().is_known(), n.describe(), ": indices need rank >= 1 and a known last dim");
  const size_t r = data.rank();
  const int64_t k = idx.dims.back().size;
  FC_CHECK(k >= 1 && static_cast<size_t>(k) <= r, n.describe(), ": indices address ", k, " dims of a rank-", r, " data");
  std::vector<Dim> want(idx.dims.begin(), idx.dims.end() - 1);
  want.insert(want.end(), data.dims.begin() + k, data.dims.end());
  FC_CHECK(upd.rank() == want.size(), n.describe(), ": updates ", to_string(upd), " should be ",
           to_string(TensorType(data.dtype, want)));
  for (size_t i = 0; i < want.size(); ++i)
    FC_CHECK(!want[i].is_known() || !upd.dims[i].is_known() || want[i] == upd.dims[i], n.describe(), ": updates ",
             to_string(upd), " should be ", to_string(TensorType(data.dtype, want)));
  const std::string& red = n.attr_string("reduction");
  FC_CHECK(red == "none" || red == "add" || red == "mul" || red == "max" || red == "min", n.describe(),
           ": reduction '", red, "' is not one of none, add, mul, max, min");
  FC_CHECK(red == "none" || data.dtype != DType::Bool, n.describe(), ": reduction '", red, "' on bool data");
  return {data};
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "ScatterND",
    .onnx_versions = {11, 13, 16, 18},
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = {{"reduction", AttrKind::String, Attribute{std::string("none")}}},
    .infer = scatter_nd_infer,
    .cost = elementwise_cost(1),
    .doc = "a copy of data with updates written (or reduced: add, mul, max, min) at the indices' places",
});

}  // namespace fc::ir
