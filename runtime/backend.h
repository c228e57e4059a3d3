// The interface between the executor and a device. A backend turns one IR node, at concrete input
// shapes, into a Kernel once (primitive creation, weight reordering, workspace sizing happen there),
// and the executor then runs that kernel every step. A CUDA backend implements this same interface;
// nothing in ir/ or passes/ knows which backend runs a graph.
#pragma once

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/tensor.h"

namespace fc::runtime {

using ir::Tensor;

// Everything known about a node when its kernel is built.
struct KernelSpec {
  const ir::Node& node;
  std::vector<ir::TensorType> inputs;    // concrete; DType::Undefined for an omitted optional input
  std::vector<const Tensor*> values;     // values of constant inputs (parameters), else null
  std::vector<ir::TensorType> outputs;   // concrete, from the op's shape function
  int threads = 1;
  // The element type the operands of convolutions and matrix products are rounded to before they
  // are multiplied ([runtime] precision): F32, or BF16 with fp32 accumulation and fp32 results
  // (the products of PyTorch's CPU autocast, without rounding their outputs). Other ops ignore it.
  ir::DType product_operands = ir::DType::F32;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // inputs[i] is null for an omitted optional input. outputs arrive allocated with the inferred
  // shapes (zero-filled unless overwrites_outputs()), unless allocates_outputs() is true: then the
  // kernel assigns them itself (e.g. Reshape returns a view that shares its input's storage).
  virtual void run(const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) = 0;
  virtual bool allocates_outputs() const { return false; }
  // True when run() writes every element of every output before reading it: the executor then
  // hands over outputs with whatever their memory held (no zero-fill; FC_POISON_OUTPUTS=1 fills
  // them with NaN instead, so that a wrong claim shows), and may pass an output that shares an
  // input's buffer where the op allows it (OpSchema::in_place).
  virtual bool overwrites_outputs() const { return false; }
  // An asynchronous kernel (communication) is started with start() instead of run(): it queues its
  // work elsewhere and returns at once; the executor keeps `inputs` and `outputs` alive and
  // untouched until the future is ready, and nodes that read the outputs wait for it.
  virtual bool asynchronous() const { return false; }
  virtual std::future<void> start(const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) {
    run(inputs, outputs);
    std::promise<void> done;
    done.set_value();
    return done.get_future();
  }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual bool supports(const ir::Node& node) const = 0;
  virtual std::unique_ptr<Kernel> make_kernel(const KernelSpec& spec) = 0;
  virtual void set_threads(int threads) = 0;
  virtual int threads() const = 0;
};

}  // namespace fc::runtime
