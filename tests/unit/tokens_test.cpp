// Token data (runtime/data/tokens.h): ids read back from raw uint8/uint16/int32 files and 1-D .npy
// files (whose dtype wins over token_dtype); evaluation windows walk the file without overlap with
// labels one token later; training windows are a function of (seed, step, sample) only, so ranks
// take disjoint shares of the same global batch; errors name the file (and the offset).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "support/error.h"
#include "runtime/data/dataset.h"
#include "runtime/data/tokens.h"
#include "runtime/npy.h"
#include "error_of.h"

using namespace fc;
using namespace fc::runtime::data;

namespace {

using fc::test::error_of;

namespace fs = std::filesystem;

class TokenFiles : public ::testing::Test {
 protected:
  fs::path dir_ = fs::temp_directory_path() / ("fc_tokens_test_" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(dir_); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string raw(const std::string& name, const std::vector<unsigned char>& bytes) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                             static_cast<std::streamsize>(bytes.size()));
    return p;
  }
};

std::vector<int64_t> ids(const TokenFile& f) {
  std::vector<int64_t> out(static_cast<size_t>(f.size()));
  f.read(0, f.size(), out.data());
  return out;
}

TEST_F(TokenFiles, RawAndNpyIdsReadBackLittleEndian) {
  EXPECT_EQ(ids(TokenFile(raw("a.u8", {7, 0, 255}), "uint8")), (std::vector<int64_t>{7, 0, 255}));
  EXPECT_EQ(ids(TokenFile(raw("a.u16", {1, 2, 0xff, 0xff}), "uint16")), (std::vector<int64_t>{0x0201, 65535}));
  EXPECT_EQ(ids(TokenFile(raw("a.i32", {1, 0, 1, 0, 0xff, 0xff, 0xff, 0xff}), "int32")),
            (std::vector<int64_t>{65537, -1}));
  // A .npy carries its own dtype: uint8 ids read as uint8 whatever token_dtype says.
  const std::string npy = (dir_ / "v.npy").string();
  runtime::save_npy(npy, ir::Tensor::from_vector<uint8_t>({4}, {3, 1, 4, 1}));
  EXPECT_EQ(ids(TokenFile(npy, "uint16")), (std::vector<int64_t>{3, 1, 4, 1}));
  const std::string npy32 = (dir_ / "w.npy").string();
  runtime::save_npy(npy32, ir::Tensor::from_vector<int32_t>({3}, {5, 70000, 9}));
  EXPECT_EQ(ids(TokenFile(npy32, "uint8")), (std::vector<int64_t>{5, 70000, 9}));
}

TEST_F(TokenFiles, ErrorsNameTheFileAndOffset) {
  const std::string odd = raw("odd.bin", {1, 2, 3});
  EXPECT_NE(error_of([&] { TokenFile(odd, "uint16"); }).find(odd + ": 3 bytes of data is not a whole number of uint16"),
            std::string::npos);
  const std::string empty = raw("empty.bin", {});
  EXPECT_NE(error_of([&] { TokenFile(empty, "uint8"); }).find(empty + ": no token ids"), std::string::npos);
  const std::string two_d = (dir_ / "2d.npy").string();
  runtime::save_npy(two_d, ir::Tensor::from_vector<int32_t>({1, 2}, {1, 2}));
  EXPECT_NE(error_of([&] { TokenFile(two_d, "int32"); }).find(two_d + ": expected a 1-D array"), std::string::npos);
  const std::string f64 = (dir_ / "f.npy").string();
  runtime::save_npy(f64, ir::Tensor::from_vector<double>({2}, {1, 2}));
  EXPECT_NE(error_of([&] { TokenFile(f64, "int32"); }).find(f64 + ": token ids of npy dtype '<f8'"), std::string::npos);
  const std::string missing = (dir_ / "missing.bin").string();
  EXPECT_NE(error_of([&] { TokenFile(missing, "uint8"); }).find(missing + ": cannot open file"), std::string::npos);
  const std::string big = raw("big.u8", {1, 2, 60, 3});
  const std::string msg = error_of([&] { TokenFile(big, "uint8").check_vocabulary(53); });
  EXPECT_EQ(msg, big + ": token id 60 at offset 2 is outside the model's vocabulary [0, 53)");
  EXPECT_EQ(error_of([&] { TokenFile(big, "uint8").check_vocabulary(61); }), "");
  const std::string neg = raw("neg.i32", {0xff, 0xff, 0xff, 0xff});
  EXPECT_NE(error_of([&] { TokenFile(neg, "int32").check_vocabulary(10); }).find("token id -1 at offset 0"),
            std::string::npos);
}

TEST_F(TokenFiles, EvaluationWindowsWalkWithoutOverlapAndLabelTheNextToken) {
  std::vector<unsigned char> bytes;
  for (int i = 0; i < 11; ++i) bytes.push_back(static_cast<unsigned char>(i));
  const Dataset ds = load_token_dataset(raw("t.u8", bytes), "uint8", 4);
  EXPECT_EQ(ds.size(), 2);  // windows [0, 4) and [4, 8); [8, 11) is not whole (needs 5 ids)
  EXPECT_EQ(ds.sample_shape(), (std::vector<int64_t>{4}));
  ir::Tensor x, y;
  ds.slice(0, 2, x, y);
  EXPECT_EQ(x.to_int64_vector(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(y.to_int64_vector(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_NE(error_of([&] { load_token_dataset(raw("short.u8", {1, 2, 3}), "uint8", 4); }).find("hold no window"),
            std::string::npos);
}

TEST_F(TokenFiles, TrainingWindowsDependOnSeedStepAndSampleOnly) {
  std::vector<unsigned char> bytes;
  for (int i = 0; i < 200; ++i) bytes.push_back(static_cast<unsigned char>(i));
  const Dataset ds = load_token_dataset(raw("t.u8", bytes), "uint8", 8);
  // One rank with the global batch of 6 vs 2 and 3 ranks: the same windows, in shares.
  auto batches = [&](int world, int64_t steps) {
    std::vector<std::vector<int64_t>> rows;  // per step: every rank's x, rank after rank
    std::vector<std::unique_ptr<BatchLoader>> loaders;
    for (int r = 0; r < world; ++r)
      loaders.push_back(std::make_unique<BatchLoader>(ds, 6, true, 42, r, world, 0, 1));
    for (int64_t s = 0; s < steps; ++s) {
      std::vector<int64_t> all;
      for (auto& l : loaders) {
        Batch b = l->next();
        EXPECT_EQ(b.x.dims(), (std::vector<int64_t>{6 / world, 8}));
        const auto x = b.x.to_int64_vector(), y = b.y.to_int64_vector();
        for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], x[i] + 1);  // the next token
        for (size_t i = 0; i < x.size(); i += 8) EXPECT_LE(x[i], 200 - 9);  // room for the last label
        all.insert(all.end(), x.begin(), x.end());
      }
      rows.push_back(all);
    }
    return rows;
  };
  const auto one = batches(1, 3);
  EXPECT_EQ(batches(2, 3), one);
  EXPECT_EQ(batches(3, 3), one);
  EXPECT_NE(one[0], one[1]);  // steps draw new windows
  // A resumed loader (start_step 2) continues with step 2's windows.
  BatchLoader resumed(ds, 6, true, 42, 0, 1, 2, 1);
  EXPECT_EQ(resumed.next().x.to_int64_vector(), one[2]);
  // Another seed, other windows.
  BatchLoader other(ds, 6, true, 43, 0, 1, 0, 1);
  EXPECT_NE(other.next().x.to_int64_vector(), one[0]);
  // Offsets cover the whole range [0, tokens - block - 1].
  std::set<int64_t> seen;
  for (int64_t k = 0; k < 20000; ++k) seen.insert(token_window_offset(1, 0, k, 20, 8));
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_EQ(*seen.rbegin(), 11);
}

}  // namespace
