// Cost-model unit tests (no MPI): each algorithm's alpha-beta formula against hand-computed values,
// presets, custom interconnects and their errors.
#include "distrib/cost_model.h"
#include "distrib/cost_model_fit.h"

#include <gtest/gtest.h>

#include "support/error.h"

namespace fc::distrib {
namespace {

// alpha = 1 us, 1 GB/s (8 Gb/s): a 1 MB message costs 1 us + 1000 us.
Interconnect unit_link(int ranks_per_host, int hosts) {
  return with_topology(custom_interconnect(1.0, 8.0), ranks_per_host, hosts);
}

double predict(AllreduceAlgorithm a, const Interconnect& ic, double bytes) {
  return predicted_allreduce_seconds(a, ic, bytes);
}

TEST(DistribCostModel, Logs) {
  EXPECT_EQ(ceil_log2(1), 0);
  EXPECT_EQ(ceil_log2(2), 1);
  EXPECT_EQ(ceil_log2(5), 3);
  EXPECT_EQ(ceil_log2(8), 3);
  EXPECT_EQ(floor_log2(1), 0);
  EXPECT_EQ(floor_log2(7), 2);
  EXPECT_EQ(floor_log2(8), 3);
}

TEST(DistribCostModel, TreeIsTwoCeilLogHopsOfTheWholeBuffer) {
  // p = 5: 2 * 3 * (1e-6 + 1e6 / 1e9) = 6 * 1.001e-3.
  EXPECT_NEAR(predict(AllreduceAlgorithm::Tree, unit_link(5, 1), 1e6), 6.006e-3, 1e-12);
  EXPECT_NEAR(predict(AllreduceAlgorithm::Tree, unit_link(1, 8), 1e6), 6.006e-3, 1e-12);
  EXPECT_NEAR(predict(AllreduceAlgorithm::Tree, unit_link(2, 1), 0), 2e-6, 1e-15);
}

TEST(DistribCostModel, RingIsTwoPMinusOneStepsOfOnePth) {
  // p = 4: 2 * 3 * (1e-6 + 0.25e6 / 1e9) = 6 * 251e-6.
  EXPECT_NEAR(predict(AllreduceAlgorithm::Ring, unit_link(4, 1), 1e6), 1.506e-3, 1e-12);
  // p = 3, 3e6 bytes: 4 * (1e-6 + 1e-3).
  EXPECT_NEAR(predict(AllreduceAlgorithm::Ring, unit_link(3, 1), 3e6), 4.004e-3, 1e-12);
}

TEST(DistribCostModel, HalvingDoublingFoldsNonPowersOfTwo) {
  // p = 8: 2 * 3 * 1e-6 + 2 * 7/8 * 1e-3.
  EXPECT_NEAR(predict(AllreduceAlgorithm::HalvingDoubling, unit_link(8, 1), 1e6), 6e-6 + 1.75e-3, 1e-12);
  // p = 6 -> p' = 4: 2 * 2 * 1e-6 + 2 * 3/4 * 1e-3 + fold 2 * (1e-6 + 1e-3).
  EXPECT_NEAR(predict(AllreduceAlgorithm::HalvingDoubling, unit_link(6, 1), 1e6), 4e-6 + 1.5e-3 + 2.002e-3, 1e-12);
}

TEST(DistribCostModel, ParameterServerSerialisesAtTheServer) {
  // p = 4: 2 * 3 * (1e-6 + 1e-3).
  EXPECT_NEAR(predict(AllreduceAlgorithm::ParameterServer, unit_link(4, 1), 1e6), 6.006e-3, 1e-12);
}

TEST(DistribCostModel, MpiIsTheBetterOfRingAndHalvingDoubling) {
  const Interconnect ic = unit_link(8, 1);
  for (double bytes : {0.0, 1e3, 1e6, 1e9})
    EXPECT_DOUBLE_EQ(predict(AllreduceAlgorithm::Mpi, ic, bytes),
                     std::min(predict(AllreduceAlgorithm::Ring, ic, bytes),
                              predict(AllreduceAlgorithm::HalvingDoubling, ic, bytes)));
}

TEST(DistribCostModel, SharedMemoryIsIntraHostPlusRingOverHosts) {
  Interconnect ic = unit_link(4, 1);
  ic.intra_alpha_s = 0.5e-6;
  ic.intra_bytes_per_s = 10e9;
  // One host: 2 * 0.5e-6 + 2 * 1e6 / 1e10.
  EXPECT_NEAR(predict(AllreduceAlgorithm::SharedMemory, ic, 1e6), 1e-6 + 2e-4, 1e-12);
  // 4 per host x 2 hosts: + ring over 2 hosts 2 * (1e-6 + 0.5e-3) + 0.5e-6.
  ic.hosts = 2;
  EXPECT_NEAR(predict(AllreduceAlgorithm::SharedMemory, ic, 1e6), 1e-6 + 2e-4 + 1.002e-3 + 0.5e-6, 1e-12);
}

// The fit recovers the alpha and bandwidth that generated the times, for either link, and fits
// the bandwidth alone when the sizes cannot resolve a latency.
TEST(DistribCostModelFit, RecoversTheParametersBehindExactTimes) {
  const Interconnect truth = with_topology(custom_interconnect(3.0, 20.0), 1, 4);  // 2.5 GB/s
  std::vector<AllreduceMeasurement> ms;
  for (AllreduceAlgorithm a : {AllreduceAlgorithm::Tree, AllreduceAlgorithm::Ring, AllreduceAlgorithm::ParameterServer})
    for (double bytes : {1e3, 1e5, 1e7}) ms.push_back({a, bytes, predict(a, truth, bytes)});
  const Interconnect fit = fit_interconnect(with_topology(custom_interconnect(1, 1), 1, 4), FittedLink::InterHost, ms);
  EXPECT_NEAR(fit.alpha_s, 3e-6, 1e-12);
  EXPECT_NEAR(fit.beta_bytes_per_s, 2.5e9, 1e-3);
  for (const AllreduceMeasurement& m : ms) EXPECT_NEAR(relative_error(fit, m), 0, 1e-9);

  Interconnect host = unit_link(2, 1);
  host.intra_alpha_s = 2e-6;
  host.intra_bytes_per_s = 30e9;
  std::vector<AllreduceMeasurement> shm;
  for (double bytes : {1e4, 1e6, 1e8}) shm.push_back({AllreduceAlgorithm::SharedMemory, bytes, predict(AllreduceAlgorithm::SharedMemory, host, bytes)});
  const Interconnect fit_shm = fit_interconnect(unit_link(2, 1), FittedLink::IntraHost, shm);
  EXPECT_NEAR(fit_shm.intra_alpha_s, 2e-6, 1e-12);
  EXPECT_NEAR(fit_shm.intra_bytes_per_s, 30e9, 1e-2);
  EXPECT_EQ(fit_shm.alpha_s, host.alpha_s);  // the other link is left alone
}

TEST(DistribCostModelFit, NegativeLatencyFallsBackToBandwidthOnly) {
  // t = n / 1e9 - 1e-6: a line below the origin; alpha would be negative.
  std::vector<AllreduceMeasurement> ms;
  for (double bytes : {1e6, 2e6, 4e6}) ms.push_back({AllreduceAlgorithm::Tree, bytes, 2 * bytes / 1e9 - 1e-6});
  const Interconnect fit = fit_interconnect(unit_link(1, 2), FittedLink::InterHost, ms);
  EXPECT_EQ(fit.alpha_s, 0);
  EXPECT_GT(fit.beta_bytes_per_s, 0.99e9);
  EXPECT_LT(fit.beta_bytes_per_s, 1.01e9);
}

TEST(DistribCostModelFit, RejectsTooFewOrFlatMeasurements) {
  EXPECT_THROW(fit_interconnect(unit_link(1, 2), FittedLink::InterHost, {{AllreduceAlgorithm::Tree, 1e6, 1e-3}}),
               Error);
  EXPECT_THROW(fit_interconnect(unit_link(1, 2), FittedLink::InterHost,
                                {{AllreduceAlgorithm::Tree, 1e6, 1e-3}, {AllreduceAlgorithm::Tree, 2e6, 0}}),
               Error);
}

TEST(DistribCostModel, OneRankCostsNothing) {
  for (AllreduceAlgorithm a : all_allreduce_algorithms()) EXPECT_EQ(predict(a, unit_link(1, 1), 1e6), 0.0);
}

TEST(DistribCostModel, TreeBeatsParameterServerAndRingWinsLargeMessages) {
  // The paper's point: with many workers a reduction tree beats a parameter server...
  const Interconnect titan = with_topology(interconnect_preset("cray_gemini"), 1, 128);
  EXPECT_LT(predict(AllreduceAlgorithm::Tree, titan, 250e6),
            predict(AllreduceAlgorithm::ParameterServer, titan, 250e6));
  // ... and for large messages the bandwidth-optimal ring beats the tree; for tiny ones it does not.
  EXPECT_LT(predict(AllreduceAlgorithm::Ring, titan, 250e6), predict(AllreduceAlgorithm::Tree, titan, 250e6));
  EXPECT_GT(predict(AllreduceAlgorithm::Ring, titan, 8), predict(AllreduceAlgorithm::Tree, titan, 8));
}

TEST(DistribCostModel, Presets) {
  for (const std::string& name : interconnect_preset_names()) {
    const Interconnect ic = interconnect_preset(name);
    EXPECT_EQ(ic.name, name);
    EXPECT_GT(ic.alpha_s, 0);
    EXPECT_GT(ic.beta_bytes_per_s, 0);
  }
  EXPECT_EQ(interconnect_preset_names().size(), 6u);
  const Interconnect fdr = interconnect_preset("infiniband_fdr");
  EXPECT_DOUBLE_EQ(fdr.alpha_s, 1e-6);
  EXPECT_DOUBLE_EQ(fdr.beta_bytes_per_s, 6.8e9);
  EXPECT_DOUBLE_EQ(interconnect_preset("10gbe").beta_bytes_per_s, 1.25e9);
  EXPECT_DOUBLE_EQ(interconnect_preset("100gbe").beta_bytes_per_s, 12.5e9);
}

TEST(DistribCostModel, CustomInterconnect) {
  const Interconnect ic = custom_interconnect(2.5, 56.0);  // gigabits: InfiniBand FDR's signalling rate
  EXPECT_DOUBLE_EQ(ic.alpha_s, 2.5e-6);
  EXPECT_DOUBLE_EQ(ic.beta_bytes_per_s, 7e9);
  EXPECT_EQ(ic.ranks(), 1);
}

TEST(DistribCostModel, Errors) {
  try {
    interconnect_preset("token_ring");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "unknown interconnect \"token_ring\" (known: \"infiniband_fdr\", \"cray_gemini\", \"10gbe\", "
                 "\"100gbe\", \"nvlink\", \"shared_memory\", or { alpha_us = .., bandwidth_gbps = .. })");
  }
  EXPECT_THROW(custom_interconnect(0, 1), Error);
  EXPECT_THROW(custom_interconnect(1, -1), Error);
  EXPECT_THROW(with_topology(interconnect_preset("10gbe"), 0, 1), Error);
  EXPECT_THROW(allreduce_algorithm_from_string("star"), Error);
  EXPECT_EQ(allreduce_algorithm_from_string("halving_doubling"), AllreduceAlgorithm::HalvingDoubling);
  EXPECT_EQ(to_string(AllreduceAlgorithm::ParameterServer), "ps");
}

}  // namespace
}  // namespace fc::distrib
