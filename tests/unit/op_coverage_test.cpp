// Holds the op registry to the unit tests: every op has a forward reference case (or, for an op
// only gradient rules emit, is checked against finite differences inside a gradient graph), and
// the cases of the op defined in ir/ops/NAME.cpp live in tests/unit/ops/NAME/ (forward, gradient
// and kernel cases of one op found from its file's name).
//
// The tests record what they check as they run (op_coverage.h, with the file of each case from
// __builtin_FILE: a default argument's or member initializer's is the caller's), so the check needs the whole
// binary in one process: a ctest runs fc_unit_tests with FC_OP_COVERAGE=1 and this environment's
// TearDown judges after every test; FC_OP_COVERAGE_REPORT=FILE also writes the table it judged.
#include "op_coverage.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "ir/op_registry.h"

namespace fc::test {
namespace {

using OpKey = std::pair<std::string, std::string>;  // (domain, op)

struct Record {
  std::set<std::string> forward_files;   // test files with a forward reference case
  std::set<std::string> gradient_files;  // test files with a finite-difference case of the op
  bool in_checked_gradient = false;      // ran inside a finite-difference-checked gradient graph
};

std::mutex& records_mutex() {
  static std::mutex m;
  return m;
}
std::map<OpKey, Record>& records() {
  static std::map<OpKey, Record> r;
  return r;
}

// "tests/unit/ops/conv/conv_test.cpp" from a compiler's (possibly absolute) path.
std::string test_file(const char* where) {
  const std::string file = where;
  const size_t at = file.rfind("tests/");
  return at == std::string::npos ? file : file.substr(at);
}

std::string stem(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.substr(0, name.rfind('.'));
}

std::string op_name(const OpKey& k) { return k.first.empty() ? k.second : k.first + "." + k.second; }

// tests/unit/ops/conv/ for ir/ops/conv.cpp.
std::string case_folder(const std::string& ops_file) { return "tests/unit/ops/" + stem(ops_file) + "/"; }

bool any_in(const std::set<std::string>& files, const std::string& folder) {
  for (const std::string& f : files)
    if (f.rfind(folder, 0) == 0) return true;
  return false;
}

std::string joined(const std::set<std::string>& files) {
  std::string s;
  for (const std::string& f : files) s += (s.empty() ? "" : " ") + f;
  return s.empty() ? "-" : s;
}

class OpCoverageCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    if (!std::getenv("FC_OP_COVERAGE")) return;
    std::ofstream report;
    if (const char* path = std::getenv("FC_OP_COVERAGE_REPORT")) report.open(path);
    for (const ir::OpSchema* s : ir::OpRegistry::global().all()) {
      if (s->domain == "test") continue;  // ops that tests register for themselves
      const OpKey key{s->domain, s->name};
      const Record r = records().count(key) ? records().at(key) : Record{};
      if (report.is_open())
        report << op_name(key) << "\t" << s->defined_in << "\tforward: " << joined(r.forward_files)
               << "\tgradient: " << joined(r.gradient_files) << (r.in_checked_gradient ? "\tin gradient graphs" : "")
               << "\n";
      // An op only gradient rules emit is checked by the finite differences of the graphs it runs in.
      const bool gradient_only = r.forward_files.empty() && r.gradient_files.empty() && r.in_checked_gradient;
      if (gradient_only) continue;
      EXPECT_FALSE(r.forward_files.empty())
          << op_name(key) << " (" << s->defined_in << ") has no forward reference case: no test runs it through "
          << "tests/unit/op_test_util.h's run_op and compares the result";
      if (!r.forward_files.empty()) {
        EXPECT_TRUE(any_in(r.forward_files, case_folder(s->defined_in)))
            << op_name(key) << "'s forward cases (" << joined(r.forward_files) << ") are none of them in "
            << case_folder(s->defined_in);
      }
      if (!r.gradient_files.empty()) {
        for (const std::string& f : r.gradient_files)
          EXPECT_EQ(f.rfind(case_folder(s->defined_in), 0), 0u)
              << op_name(key) << "'s gradient case file " << f << " is not in " << case_folder(s->defined_in);
      }
    }
  }
};

[[maybe_unused]] const auto* const registered = ::testing::AddGlobalTestEnvironment(new OpCoverageCheck);

}  // namespace

void note_forward_case(const std::string& domain, const std::string& op, const char* where) {
  std::lock_guard lock(records_mutex());
  records()[{domain, op}].forward_files.insert(test_file(where));
}

void note_gradient_case(const ir::Node& op, const ir::Graph& vjp, const char* where) {
  std::lock_guard lock(records_mutex());
  records()[{op.domain, op.op}].gradient_files.insert(test_file(where));
  for (const auto& n : vjp.nodes())
    if (n.get() != &op) records()[{n->domain, n->op}].in_checked_gradient = true;
}

}  // namespace fc::test
