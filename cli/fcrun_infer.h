// `fcrun infer`: one inference run of an ONNX model on the CPU, inputs and the output as files.
#pragma once

#include <string>
#include <vector>

namespace fc::cli {

// fcrun infer MODEL --input [NAME=]FILE ... --output FILE [--output-name NAME] [--threads N]:
// tensors as .npy or ONNX TensorProto .pb files; a sequence input or output as an ONNX
// SequenceProto .pb file.
int cmd_infer(const std::vector<std::string>& argv);

}  // namespace fc::cli
