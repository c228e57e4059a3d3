// Node attributes: the ONNX attribute kinds we use. Floats are float32 as in ONNX.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ir/tensor.h"

namespace fc::ir {

using Attribute = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>, Tensor,
                               std::vector<std::string>>;

enum class AttrKind { Int, Float, String, Ints, Floats, Tensor, Strings };

inline AttrKind attr_kind(const Attribute& a) { return static_cast<AttrKind>(a.index()); }
const char* attr_kind_name(AttrKind k);

}  // namespace fc::ir
