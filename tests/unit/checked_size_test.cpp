// Overflow-checked size products (ir/checked_size.h) and the places that rely on them: a product of
// sizes past int64 is an fc::Error naming what overflowed, never a wrapped size.
#include <gtest/gtest.h>

#include <functional>

#include "ir/checked_size.h"
#include "support/error.h"
#include "ir/shape_util.h"
#include "ir/tensor.h"
#include "ir/types.h"
#include "error_of.h"

namespace fc::ir {
namespace {

using fc::test::error_of;

TEST(CheckedSize, ProductsThatFit) {
  EXPECT_EQ(checked_numel({}, "t"), 1);
  EXPECT_EQ(checked_numel({2, 3, 4}, "t"), 24);
  EXPECT_EQ(checked_numel({0, int64_t{1} << 62, 8}, "t"), 0);
  EXPECT_EQ(checked_nbytes(DType::F32, {1 << 20, 1 << 20}, "t"), int64_t{4} << 40);
  EXPECT_EQ(checked_mul(int64_t{1} << 31, int64_t{1} << 31, "t"), int64_t{1} << 62);
}

TEST(CheckedSize, OverflowIsAnErrorNamingWhat) {
  EXPECT_NE(error_of([] { checked_numel({int64_t{1} << 32, int64_t{1} << 32}, "initializer 'w'"); })
                .find("initializer 'w': dims [4294967296,4294967296] overflow"),
            std::string::npos);
  EXPECT_NE(error_of([] { checked_nbytes(DType::F64, {int64_t{1} << 61}, "x"); }).find("byte count"), std::string::npos);
  EXPECT_NE(error_of([] { checked_mul(int64_t{1} << 40, int64_t{1} << 40, "batch"); }).find("batch:"), std::string::npos);
  EXPECT_NE(error_of([] { checked_numel({2, -1}, "y"); }).find("negative dimension -1"), std::string::npos);
}

TEST(CheckedSize, TensorsAndTypesUseIt) {
  EXPECT_NE(error_of([] { Tensor t(DType::F32, {int64_t{1} << 40, int64_t{1} << 40}); }).find("overflow"),
            std::string::npos);
  EXPECT_NE(error_of([] { TensorType(DType::F32, {Dim::known(int64_t{1} << 40), Dim::known(int64_t{1} << 40)}).numel(); })
                .find("overflow"),
            std::string::npos);
  EXPECT_NE(error_of([] { product({int64_t{1} << 40, int64_t{1} << 40}); }).find("overflow"), std::string::npos);
}

}  // namespace
}  // namespace fc::ir
