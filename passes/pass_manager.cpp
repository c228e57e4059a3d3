#include "passes/pass_manager.h"

#include <algorithm>
#include <ostream>

#include "support/error.h"
#include "ir/text_format.h"
#include "ir/verifier.h"

namespace fc::passes {

void PassManager::run(ir::Graph& g) const {
  auto known = [&](const std::string& name) {
    return std::any_of(passes_.begin(), passes_.end(), [&](const Pass& p) { return p.name == name; });
  };
  auto names = [&] {
    std::string s;
    for (const Pass& p : passes_) s += (s.empty() ? "" : ", ") + p.name;
    return s;
  };
  FC_CHECK(options_.print_after.empty() || options_.print_after == "all" || known(options_.print_after),
           "--print-after ", options_.print_after, ": no such pass (passes: ", names(), ")");
  FC_CHECK(options_.stop_after.empty() || known(options_.stop_after), "--stop-after ", options_.stop_after,
           ": no such pass (passes: ", names(), ")");
  for (const Pass& p : passes_) {
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
    if (p.name == options_.stop_after) break;
  }
}

}  // namespace fc::passes
