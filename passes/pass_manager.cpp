#include "passes/pass_manager.h"

#include <ostream>

#include "ir/error.h"
#include "ir/text_format.h"
#include "ir/verifier.h"

namespace fc::passes {

void PassManager::run(ir::Graph& g) const {
  for (size_t i = 0; i < passes_.size(); ++i) {
    if (options_.stop_after >= 0 && static_cast<int>(i) >= options_.stop_after) break;
    const Pass& p = passes_[i];
    p.run(g);
    if (options_.verify_each) {
      try {
        ir::verify(g);
      } catch (const Error& e) {
        fail("after pass '", p.name, "': ", e.what());
      }
    }
    if (options_.dump && (options_.print_after == "all" || options_.print_after == p.name))
      *options_.dump << "# after " << p.name << "\n" << ir::print_graph(g);
  }
}

}  // namespace fc::passes
