// Shared by the frontend tests. generated_fixture_dir: the folder of ONNX fixtures that a generator script under tests/fixtures/ writes (run with Debian's
// /usr/bin/python3): generated on first use into a cache keyed by the script's contents (the build
// folder under ctest, else the temp folder), so that the one-process-per-test runs of ctest generate
// it once. Generation goes to a private folder renamed into place, which is safe when several test
// processes race.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include <unistd.h>

#include "support/error.h"
#include "error_of.h"
#include "ir/graph.h"

inline std::string generated_fixture_dir(const std::string& script_name) {
  namespace fs = std::filesystem;
  static std::map<std::string, std::string> dirs;
  if (auto it = dirs.find(script_name); it != dirs.end()) return it->second;
  const std::string script = FC_SOURCE_DIR "/tests/fixtures/" + script_name;
  std::ifstream in(script, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(text.empty()) << "cannot read " << script;
  const char* bin = std::getenv("FC_BIN_DIR");
  fs::path base = bin ? fs::path(bin).parent_path() / "test_fixtures" : fs::temp_directory_path() / "fc_test_fixtures";
  fs::path final_dir = base / std::to_string(std::hash<std::string>{}(script_name + "\n" + text));
  if (!fs::exists(final_dir / "done")) {
    fs::path tmp = base / ("tmp." + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp);
    std::string cmd = "/usr/bin/python3 '" + script + "' '" + tmp.string() + "' > '" + tmp.string() + "/log' 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "fixture generation failed; see " << tmp.string() << "/log";
    std::ofstream(tmp / "done") << "ok\n";
    fs::rename(tmp, final_dir, ec);  // fails harmlessly when another process got there first
    if (ec) fs::remove_all(tmp, ec);
  }
  return dirs[script_name] = final_dir.string();
}

using fc::test::error_of;

inline const fc::ir::Node* node_named(const fc::ir::Graph& g, const std::string& name) {
  for (const auto& n : g.nodes())
    if (n->name == name) return n.get();
  return nullptr;
}
