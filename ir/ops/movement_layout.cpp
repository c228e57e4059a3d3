// Ops that rearrange elements into a new buffer (kernels: runtime/cpu/kernels/movement_layout.cpp,
// all built on one strided copy): Transpose, Slice, Pad, Concat, Split, Expand, Tile. Any element
// type. Configuration is in attributes (docs/ir_conventions.md); shape functions keep symbolic dims
// that an axis leaves untouched, and give unknown dims where a size depends on a symbol's value.
#include <algorithm>
#include <string>
#include <vector>

#include "ir/checked_size.h"
#include "support/error.h"
#include "ir/grad_builder.h"
#include "ir/op_helpers.h"
#include "ir/ops/movement.h"
#include "ir/shape_util.h"

namespace fc::ir {
namespace {

std::vector<TensorType> transpose_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const std::vector<int64_t> perm = transpose_perm(ctx.node, static_cast<int64_t>(x.rank()));
  std::vector<Dim> out;
  for (int64_t p : perm) out.push_back(x.dims[p]);
  return {TensorType(x.dtype, out)};
}

std::vector<TensorType> slice_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const std::vector<SliceRange> ranges = slice_ranges(ctx.node, static_cast<int64_t>(x.rank()));
  std::vector<Dim> out;
  for (size_t i = 0; i < x.rank(); ++i) {
    if (ranges[i].whole()) out.push_back(x.dims[i]);
    else if (x.dims[i].is_known()) out.push_back(Dim::known(resolve_slice(ranges[i], x.dims[i].size).count));
    else out.push_back(Dim::unknown());
  }
  return {TensorType(x.dtype, out)};
}

std::vector<TensorType> pad_infer(const InferContext& ctx) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.in(0);
  const int64_t r = static_cast<int64_t>(x.rank());
  const std::string& mode = n.attr_string("mode");
  FC_CHECK(mode == "constant" || mode == "reflect" || mode == "edge" || mode == "wrap", n.describe(),
           ": unsupported mode '", mode, "' (constant, reflect, edge or wrap)");
  const std::vector<int64_t> pads = pad_amounts(n, r);
  std::vector<Dim> out;
  for (int64_t i = 0; i < r; ++i) {
    const int64_t b = pads[i], e = pads[i + r];
    const Dim& d = x.dims[i];
    if (!d.is_known()) {
      out.push_back(b == 0 && e == 0 ? d : Dim::unknown());
      continue;
    }
    // The input is cropped by the negative pads first, then padded by the positive ones.
    const std::string what = n.describe() + ": axis " + std::to_string(i) + " with pads";
    const int64_t kept = checked_add(checked_add(d.size, std::min<int64_t>(b, 0), what), std::min<int64_t>(e, 0), what);
    FC_CHECK(kept >= 0, n.describe(), ": pads ", b, ", ", e, " crop more than axis ", i, "'s ", d.size, " elements");
    FC_CHECK(mode == "constant" || kept > 0 || (b <= 0 && e <= 0), n.describe(), ": ", mode,
             " padding of an empty axis ", i);
    const int64_t size = checked_add(checked_add(d.size, b, what), e, what);
    out.push_back(Dim::known(size));
  }
  return {TensorType(x.dtype, out)};
}

std::vector<TensorType> concat_infer(const InferContext& ctx) {
  const Node& n = ctx.node;
  const TensorType& first = ctx.in(0);
  const int64_t r = static_cast<int64_t>(first.rank());
  FC_CHECK(r > 0, n.describe(), ": cannot concatenate scalars");
  const int64_t axis = normalize_axis(n.attr_int("axis"), r, n.describe());
  std::vector<Dim> out = first.dims;
  int64_t known = 0;
  std::vector<Dim> open;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const TensorType& t = ctx.in(i);
    FC_CHECK(t.dtype == first.dtype && t.rank() == first.rank(), n.describe(), ": input ", i, " is ", to_string(t),
             ", input 0 is ", to_string(first));
    for (int64_t k = 0; k < r; ++k) {
      const Dim& d = t.dims[k];
      if (k == axis) {
        if (d.is_known()) known += d.size;
        else open.push_back(d);
      } else if (!(d == out[k])) {
        FC_CHECK(!d.is_known() || !out[k].is_known(), n.describe(), ": input ", i, " is ", to_string(t),
                 ", input 0 is ", to_string(first), " (dims off the concat axis must match)");
        if (!out[k].is_known() && d.is_known()) out[k] = d;
      }
    }
  }
  out[axis] = open.empty() ? Dim::known(known) : (open.size() == 1 && known == 0 ? open[0] : Dim::unknown());
  return {TensorType(first.dtype, out)};
}

std::vector<TensorType> split_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const int64_t r = static_cast<int64_t>(x.rank());
  const int64_t axis = normalize_axis(ctx.node.attr_int("axis"), r, ctx.node.describe());
  const Dim& d = x.dims[axis];
  const size_t parts = ctx.node.outputs.size();
  const std::vector<int64_t> sizes = split_sizes(ctx.node, d.is_known() ? d.size : -1, parts);
  std::vector<TensorType> outs;
  for (size_t i = 0; i < parts; ++i) {
    TensorType t = x;
    t.dims[axis] = parts == 1 ? d : sizes[i] >= 0 ? Dim::known(sizes[i]) : Dim::unknown();
    outs.push_back(t);
  }
  return outs;
}

// Bidirectional (numpy) broadcast of the input against `shape`. A -1 in `shape` is a size known only
// at run time (the batch: `class_token.expand(n, -1, -1)`): it is the size of dim like_axes[k] of
// the optional input `like` (k counts the -1 entries), whose contents are never read.
std::vector<TensorType> expand_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const Node& n = ctx.node;
  std::vector<int64_t> like_axes;
  if (n.has_attr("like_axes")) like_axes = n.attr_ints("like_axes");
  std::vector<Dim> target;
  size_t k = 0;
  for (int64_t s : n.attr_ints("shape")) {
    if (s == -1) {
      FC_CHECK(ctx.has_input(1) && k < like_axes.size(), n.describe(),
               ": a -1 in shape needs input 'like' and an entry of like_axes");
      const TensorType& like = ctx.in(1);
      int64_t a = normalize_axis(like_axes[k++], static_cast<int64_t>(like.rank()), n.describe());
      target.push_back(like.dims[a]);
      continue;
    }
    FC_CHECK(s >= 0, n.describe(), ": invalid shape entry ", s);
    target.push_back(Dim::known(s));
  }
  FC_CHECK(k == like_axes.size(), n.describe(), ": like_axes has ", like_axes.size(), " entries for ", k, " -1 sizes");
  return {TensorType(x.dtype, broadcast_dims(x.dims, target, n.describe()))};
}

std::vector<TensorType> tile_infer(const InferContext& ctx) {
  const TensorType& x = ctx.in(0);
  const std::vector<int64_t>& reps = ctx.node.attr_ints("repeats");
  FC_CHECK(reps.size() == x.rank(), ctx.node.describe(), ": repeats has ", reps.size(), " entries for rank ",
           x.rank());
  std::vector<Dim> out;
  for (size_t i = 0; i < reps.size(); ++i) {
    FC_CHECK(reps[i] >= 0, ctx.node.describe(), ": negative repeat ", reps[i]);
    const Dim& d = x.dims[i];
    if (d.is_known()) out.push_back(Dim::known(checked_mul(d.size, reps[i], ctx.node.describe() + ": repeated size")));
    else out.push_back(reps[i] == 1 ? d : reps[i] == 0 ? Dim::known(0) : Dim::unknown());
  }
  return {TensorType(x.dtype, out)};
}

constexpr int kManyOutputs = 1 << 20;

// ---- gradient rules (all ops here are linear: each gradient is the adjoint data movement) ----

std::vector<Value*> transpose_gradient(GradBuilder& b) {
  const std::vector<int64_t> perm = transpose_perm(b.node(), static_cast<int64_t>(b.x(0)->type.rank()));
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
  return {b.emit1("Transpose", {b.dy(0)}, {{"perm", inverse}})};
}

// A slice's gradient scatters dy back where the slice took its elements, zeros elsewhere. Along an
// axis with step 1 that is zero padding: before = first, after = dim - first - count. A step s > 1
// first spreads dy's count elements s apart (a new axis after it padded by s - 1 and merged into
// it: count * s elements, the taken ones s apart); a negative step first reverses dy along the axis
// and scatters from the lowest index taken. Padding past the input's end is negative: a crop.
std::vector<Value*> slice_gradient(GradBuilder& b) {
  const TensorType& x = b.x(0)->type;
  const int64_t r = static_cast<int64_t>(x.rank());
  const std::vector<SliceRange> ranges = slice_ranges(b.node(), r);
  std::vector<int64_t> pads(2 * r, 0);
  Value* g = b.dy(0);
  for (int64_t i = 0; i < r; ++i) {
    if (ranges[i].whole()) continue;
    FC_CHECK(x.dims[i].is_known(), b.node().describe(), ": gradient needs a known size of sliced axis ", i, ", is ",
             to_string(x.dims[i]));
    const SliceAxis a = resolve_slice(ranges[i], x.dims[i].size);
    const int64_t s = a.step < 0 ? -a.step : a.step;
    const int64_t low = a.step > 0 ? a.first : a.first - (a.count - 1) * s;
    if (a.count > 0 && a.step < 0)
      g = b.emit1("Slice", {g}, {{"starts", std::vector<int64_t>{-1}}, {"ends", std::vector<int64_t>{INT64_MIN}},
                                 {"axes", std::vector<int64_t>{i}}, {"steps", std::vector<int64_t>{-1}}});
    int64_t extent = a.count;
    if (a.count > 0 && s > 1) {
      // [.., count, ..] -> [.., count, 1, ..] -> padded to [.., count, s, ..] -> [.., count * s, ..]
      std::vector<int64_t> spread_pads(2 * (r + 1), 0);
      spread_pads[i + 1 + r + 1] = s - 1;
      Value* spread = b.emit1("Pad", {b.emit1("Unsqueeze", {g}, {{"axes", std::vector<int64_t>{i + 1}}})},
                              {{"pads", spread_pads}});
      std::vector<int64_t> shape;
      int unknown = 0;
      for (int64_t j = 0; j < r; ++j) {
        const Dim& d = g->type.dims[j];
        if (j < i) shape.push_back(0);  // copied: same position before the new axis
        else if (j == i) shape.push_back(a.count * s);
        else if (d.is_known()) shape.push_back(d.size);
        else shape.push_back((++unknown, -1));
      }
      FC_CHECK(unknown <= 1, b.node().describe(), ": gradient of a strided slice needs the dims after axis ", i,
               " known but one");
      g = b.emit1("Reshape", {spread}, {{"shape", shape}});
      extent = a.count * s;
    }
    pads[i] = low;
    pads[i + r] = x.dims[i].size - low - extent;
  }
  return {b.emit1("Pad", {g}, {{"pads", pads}})};
}

// Constant padding is undone by cropping (and cropping by zero padding): Pad with negated pads.
std::vector<Value*> pad_gradient(GradBuilder& b) {
  FC_CHECK(b.node().attr_string("mode") == "constant", b.node().describe(), ": gradient of ",
           b.node().attr_string("mode"), " padding is not supported");
  std::vector<int64_t> pads = pad_amounts(b.node(), static_cast<int64_t>(b.x(0)->type.rank()));
  for (int64_t& p : pads) p = -p;
  return {b.emit1("Pad", {b.dy(0)}, {{"pads", pads}})};
}

std::vector<Value*> concat_gradient(GradBuilder& b) {
  const Node& n = b.node();
  const int64_t axis = normalize_axis(n.attr_int("axis"), static_cast<int64_t>(b.x(0)->type.rank()), n.describe());
  std::vector<int64_t> sizes;
  for (const Value* x : n.inputs) {
    const Dim& d = x->type.dims[axis];
    FC_CHECK(d.is_known(), n.describe(), ": gradient needs known sizes along the concat axis, input '", x->name,
             "' is ", to_string(x->type));
    sizes.push_back(d.size);
  }
  return b.emit("Split", {b.dy(0)}, {{"axis", axis}, {"split", sizes}}, static_cast<int>(sizes.size()));
}

// Outputs without a gradient contribute zeros (y * 0, which has y's shape).
std::vector<Value*> split_gradient(GradBuilder& b) {
  std::vector<Value*> parts;
  for (size_t k = 0; k < b.node().outputs.size(); ++k) {
    Value* dy = b.dy(k);
    if (!dy) dy = b.emit1("Mul", {b.y(k), b.constant(Tensor(b.y(k)->type.dtype, {}), "zero")});
    parts.push_back(dy);
  }
  return {b.emit1("Concat", parts, {{"axis", b.node().attr_int("axis")}})};
}

std::vector<Value*> expand_gradient(GradBuilder& b) {
  std::vector<Value*> d(b.node().inputs.size());  // none for `like`, whose values are not read
  d[0] = b.reduce_to_shape_of(b.dy(0), b.x(0));
  return d;
}

}  // namespace

FC_REGISTER_OP(OpSchema{
    .name = "Transpose",
    .onnx_versions = {1, 13, 21},
    .attrs = {{"perm", AttrKind::Ints, std::nullopt}},
    .infer = transpose_infer,
    .cost = movement_cost,
    .doc = "permute axes (perm; absent: reverse them)",
    .gradient = transpose_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Slice",
    .onnx_versions = {1, 10, 11, 13},
    .attrs = {{"starts", AttrKind::Ints, std::nullopt, true},
              {"ends", AttrKind::Ints, std::nullopt, true},
              {"axes", AttrKind::Ints, std::nullopt},
              {"steps", AttrKind::Ints, std::nullopt}},
    .infer = slice_infer,
    .cost = movement_cost,
    .doc = "strided sub-range per axis (negative indices count from the end; clamped)",
    .gradient = slice_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Pad",
    .onnx_versions = {1, 2, 11, 13, 18, 19, 21},
    .attrs = {{"pads", AttrKind::Ints, std::nullopt, true},
              {"mode", AttrKind::String, Attribute{std::string("constant")}},
              {"value", AttrKind::Float, Attribute{0.0f}}},
    .infer = pad_infer,
    .cost = movement_cost,
    .doc = "pad (constant, reflect, edge, wrap) or crop (negative pads) each axis",
    .gradient = pad_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Concat",
    .onnx_versions = {1, 4, 11, 13},
    .max_inputs = kManyOutputs,
    .attrs = {{"axis", AttrKind::Int, std::nullopt, true}},
    .infer = concat_infer,
    .cost = movement_cost,
    .doc = "join inputs along axis",
    .gradient = concat_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Split",
    .onnx_versions = {1, 2, 11, 13, 18},
    .max_outputs = kManyOutputs,
    .attrs = {{"axis", AttrKind::Int, Attribute{int64_t{0}}}, {"split", AttrKind::Ints, std::nullopt}},
    .infer = split_infer,
    .cost = movement_cost,
    .doc = "cut along axis into parts of sizes split (absent: equal parts, one per output)",
    .gradient = split_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Expand",
    .onnx_versions = {8, 13},
    .max_inputs = 2,
    .attrs = {{"shape", AttrKind::Ints, std::nullopt, true}, {"like_axes", AttrKind::Ints}},
    .infer = expand_infer,
    .cost = movement_cost,
    .doc = "broadcast to shape (numpy rules, both ways)",
    .gradient = expand_gradient,
});

FC_REGISTER_OP(OpSchema{
    .name = "Tile",
    .onnx_versions = {1, 6, 13},
    .attrs = {{"repeats", AttrKind::Ints, std::nullopt, true}},
    .infer = tile_infer,
    .cost = movement_cost,
    .doc = "repeat the input repeats[i] times along each axis i",
});

}  // namespace fc::ir
