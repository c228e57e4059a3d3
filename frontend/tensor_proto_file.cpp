#include "frontend/tensor_proto_file.h"

#include <fstream>
#include <sstream>

#include <onnx/onnx-data_pb.h>

#include "frontend/onnx_internal.h"
#include "ir/atomic_file.h"
#include "support/error.h"

namespace fc::frontend {

ir::Tensor load_tensor_proto(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FC_CHECK(f, path, ": cannot open");
  std::stringstream bytes;
  bytes << f.rdbuf();
  onnx::TensorProto t;
  FC_CHECK(t.ParseFromString(bytes.str()), path, ": not an ONNX TensorProto");
  // A SequenceProto (ONNX's test data for sequence inputs) parses as a TensorProto whose "segment"
  // is the sequence's first tensor: say what it is.
  if (onnx::SequenceProto seq; t.has_segment() && seq.ParseFromString(bytes.str()) && seq.tensor_values_size() > 0)
    fail(path, ": an ONNX SequenceProto (a sequence of ", seq.tensor_values_size(),
            " tensors), not a tensor; inputs and outputs are tensors (sequences are read inside a model only)");
  FC_CHECK(t.data_location() != onnx::TensorProto::EXTERNAL, path, ": a tensor with external data is not supported here");
  return detail::tensor_from_onnx(t, path);
}

void save_tensor_proto(const std::string& path, const ir::Tensor& t) {
  std::string bytes;
  FC_CHECK(detail::tensor_to_onnx(t, "").SerializeToString(&bytes), path, ": cannot serialise the tensor");
  ir::write_file_atomically(path, bytes);
}

}  // namespace fc::frontend
