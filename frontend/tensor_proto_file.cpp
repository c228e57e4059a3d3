#include "frontend/tensor_proto_file.h"

#include <fstream>
#include <sstream>

#include <onnx/onnx-data_pb.h>

#include "frontend/onnx_internal.h"
#include "ir/atomic_file.h"
#include "support/error.h"

namespace fc::frontend {

namespace {

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  FC_CHECK(f, path, ": cannot open");
  std::stringstream bytes;
  bytes << f.rdbuf();
  return bytes.str();
}

// A SequenceProto parses as a TensorProto too (its fields 1-3 are a TensorProto's dims, data_type
// and segment): it is one where the segment field holds the sequence's first tensor.
bool is_sequence(const onnx::TensorProto& as_tensor, const std::string& bytes, onnx::SequenceProto& seq) {
  return as_tensor.has_segment() && seq.ParseFromString(bytes) && seq.tensor_values_size() > 0;
}

}  // namespace

ProtoValue load_proto_value(const std::string& path) {
  const std::string bytes = file_bytes(path);
  onnx::TensorProto t;
  FC_CHECK(t.ParseFromString(bytes), path, ": not an ONNX TensorProto or SequenceProto");
  ProtoValue v;
  if (onnx::SequenceProto seq; is_sequence(t, bytes, seq)) {
    FC_CHECK(seq.elem_type() == onnx::SequenceProto::TENSOR || seq.elem_type() == onnx::SequenceProto::UNDEFINED,
             path, ": a sequence of ", seq.elem_type() == onnx::SequenceProto::MAP ? "maps" : "non-tensors",
             " (only sequences of tensors are supported)");
    v.sequence = true;
    for (int i = 0; i < seq.tensor_values_size(); ++i) {
      const onnx::TensorProto& e = seq.tensor_values(i);
      FC_CHECK(e.data_location() != onnx::TensorProto::EXTERNAL, path, ": element ", i,
               " has external data, which is not supported here");
      v.tensors.push_back(detail::tensor_from_onnx(e, path + " element " + std::to_string(i)));
    }
    return v;
  }
  FC_CHECK(t.data_location() != onnx::TensorProto::EXTERNAL, path, ": a tensor with external data is not supported here");
  v.tensors.push_back(detail::tensor_from_onnx(t, path));
  return v;
}

ir::Tensor load_tensor_proto(const std::string& path) {
  ProtoValue v = load_proto_value(path);
  if (v.sequence)
    fail(path, ": an ONNX SequenceProto (a sequence of ", v.tensors.size(),
         " tensors), not a tensor; give it to a sequence input of the model");
  return std::move(v.tensors[0]);
}

void save_sequence_proto(const std::string& path, const std::string& name, const std::vector<ir::Tensor>& tensors) {
  onnx::SequenceProto seq;
  seq.set_name(name);
  seq.set_elem_type(onnx::SequenceProto::TENSOR);
  for (const ir::Tensor& t : tensors) *seq.add_tensor_values() = detail::tensor_to_onnx(t, "");
  std::string bytes;
  FC_CHECK(seq.SerializeToString(&bytes), path, ": cannot serialise the sequence");
  ir::write_file_atomically(path, bytes);
}

void save_tensor_proto(const std::string& path, const ir::Tensor& t) {
  std::string bytes;
  FC_CHECK(detail::tensor_to_onnx(t, "").SerializeToString(&bytes), path, ": cannot serialise the tensor");
  ir::write_file_atomically(path, bytes);
}

}  // namespace fc::frontend
