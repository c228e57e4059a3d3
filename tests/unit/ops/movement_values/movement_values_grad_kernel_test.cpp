// Cast's gradient rule against its adjoint (movement_adjoint.h), in both directions of precision.
#include <gtest/gtest.h>

#include "movement_adjoint.h"

using namespace fc;
using namespace fc::test::movement;

namespace {

TEST(MovementGrad, AdjointsOfCast) {
  check_adjoint({"Cast", {{3}}, {{"to", std::string("f64")}}});
  check_adjoint({"Cast", {{2, 2}}, {{"to", std::string("f32")}}, 1, {}, DType::F64});
}

}  // namespace
