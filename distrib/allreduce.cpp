// Allreducer dispatch, algorithm names, and the building blocks shared by the algorithms:
// balanced partitions, summation loops and the pieced exchange step.
#include "distrib/allreduce.h"

#include <algorithm>
#include <climits>

#include "distrib/allreduce_detail.h"
#include "distrib/allreduce_shm.h"
#include "support/error.h"

namespace fc::distrib {

namespace {
struct AlgorithmName {
  AllreduceAlgorithm algorithm;
  std::string_view name;
};
constexpr AlgorithmName kAlgorithmNames[] = {
    {AllreduceAlgorithm::Tree, "tree"},
    {AllreduceAlgorithm::Ring, "ring"},
    {AllreduceAlgorithm::HalvingDoubling, "halving_doubling"},
    {AllreduceAlgorithm::ParameterServer, "ps"},
    {AllreduceAlgorithm::Mpi, "mpi"},
    {AllreduceAlgorithm::SharedMemory, "shm"},
};
}  // namespace

std::string_view to_string(AllreduceAlgorithm algorithm) {
  for (const auto& entry : kAlgorithmNames)
    if (entry.algorithm == algorithm) return entry.name;
  FC_ASSERT(false);
}

AllreduceAlgorithm allreduce_algorithm_from_string(std::string_view name) {
  std::string known;
  for (const auto& entry : kAlgorithmNames) {
    if (entry.name == name) return entry.algorithm;
    known += (known.empty() ? "\"" : ", \"") + std::string(entry.name) + "\"";
  }
  fail("unknown allreduce algorithm \"", name, "\" (known: ", known, ")");
}

const std::vector<AllreduceAlgorithm>& all_allreduce_algorithms() {
  static const std::vector<AllreduceAlgorithm> all = [] {
    std::vector<AllreduceAlgorithm> list;
    for (const auto& entry : kAlgorithmNames) list.push_back(entry.algorithm);
    return list;
  }();
  return all;
}

namespace detail {

Range partition(size_t count, int parts, int index) {
  FC_ASSERT(parts > 0 && index >= 0 && index < parts);
  const size_t n = static_cast<size_t>(parts), i = static_cast<size_t>(index);
  const size_t base = count / n, extra = count % n;
  return {i * base + std::min(i, extra), base + (i < extra ? 1 : 0)};
}

void add_into(float* __restrict dst, const float* __restrict src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

void add_to(float* dst, const float* a, const float* __restrict b, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = a[i] + b[i];
}

namespace {
// At most kMaxPieces requests per message: MPI matches long request lists slowly.
constexpr size_t kMaxPieces = 1024;
size_t piece_size(size_t count, size_t piece_floats) {
  return std::clamp<size_t>(std::max(piece_floats, (count + kMaxPieces - 1) / kMaxPieces), 1, INT_MAX);
}
}  // namespace

void exchange(const Communicator& comm, int tag, const float* send, size_t send_count, int dest, float* recv,
              size_t recv_count, int source, bool accumulate, StepBuffers buffers, SendCompletion completion) {
  if (dest == MPI_PROC_NULL) send_count = 0;
  if (source == MPI_PROC_NULL) recv_count = 0;
  // A message of n floats travels as ceil(n / piece) pieces. The piece size depends only on n and
  // the option, so sender and receiver cut the message alike.
  const size_t recv_piece = piece_size(recv_count, buffers.piece_floats);
  const size_t send_piece = piece_size(send_count, buffers.piece_floats);
  const size_t recv_pieces = (recv_count + recv_piece - 1) / recv_piece;
  const size_t send_pieces = (send_count + send_piece - 1) / send_piece;
  float* landing = recv;
  if (accumulate && recv_count > 0) {
    if (buffers.scratch.size() < recv_count) buffers.scratch.resize(recv_count);
    landing = buffers.scratch.data();
  }
  // Receives first, so that the peer's sends find them posted.
  std::vector<MPI_Request> requests;
  requests.reserve(recv_pieces + send_pieces);
  for (size_t k = 0; k < recv_pieces; ++k) {
    const size_t offset = k * recv_piece;
    requests.push_back(comm.irecv(landing + offset, std::min(recv_piece, recv_count - offset), source, tag));
  }
  // (send_count > 0 implies dest is a rank, not MPI_PROC_NULL.)
  const bool remote = send_count > 0 && buffers.remote_window > 0 && buffers.remote && !buffers.remote->empty() &&
                      (*buffers.remote)[static_cast<size_t>(dest)];
  const size_t window = remote ? buffers.remote_window : send_pieces;
  size_t posted = 0;
  const auto post_send = [&] {
    const size_t offset = posted++ * send_piece;
    const size_t n = std::min(send_piece, send_count - offset);
    requests.push_back(completion == SendCompletion::Delivered ? comm.issend(send + offset, n, dest, tag)
                                                               : comm.isend(send + offset, n, dest, tag));
  };
  while (posted < std::min(window, send_pieces)) post_send();
  // Pieces from one source with one tag arrive in order (MPI's non-overtaking rule): with
  // accumulate, sum each as soon as it is in, in a fixed order, while later pieces are still
  // moving; each send that completes lets the next one of the window go.
  for (size_t k = 0; k < std::max(recv_pieces, send_pieces); ++k) {
    if (accumulate && k < recv_pieces) {
      Communicator::wait(requests[k]);
      const size_t offset = k * recv_piece;
      add_into(recv + offset, landing + offset, std::min(recv_piece, recv_count - offset));
    }
    if (k < send_pieces && posted < send_pieces) {
      Communicator::wait(requests[recv_pieces + k]);
      post_send();
    }
  }
  Communicator::wait_all(requests);
}

void allreduce_mpi(const Communicator& comm, float* data, size_t count) {
  // MPI counts are int: reduce in INT_MAX-sized pieces.
  for (size_t offset = 0; offset < count; offset += INT_MAX) {
    const int n = static_cast<int>(std::min<size_t>(INT_MAX, count - offset));
    FC_MPI(MPI_Allreduce, MPI_IN_PLACE, data + offset, n, MPI_FLOAT, MPI_SUM, comm.comm());
  }
}

}  // namespace detail

Allreducer::Allreducer(const Communicator& comm, AllreduceAlgorithm algorithm, AllreduceOptions options)
    : comm_(comm), algorithm_(algorithm), options_(options) {
  FC_CHECK(comm.valid(), "allreduce on an invalid communicator");
  if (algorithm == AllreduceAlgorithm::SharedMemory) {
    shm_ = std::make_unique<SharedMemoryAllreduce>(comm, options);
  } else if (algorithm != AllreduceAlgorithm::Mpi && comm.size() > 1) {
    // Which ranks the send window applies to: those on other hosts (or other groups of
    // ranks_per_host, when set).
    const int group = options.ranks_per_host;
    if (group <= 0) remote_ = comm.ranks_on_other_hosts();
    for (int r = 0; group > 0 && r < comm.size(); ++r) remote_.push_back(r / group != comm.rank() / group);
  }
}

Allreducer::~Allreducer() = default;

void Allreducer::run(float* data, size_t count) {
  FC_CHECK(count == 0 || data != nullptr, "allreduce of ", count, " elements from a null buffer");
  if (comm_.size() == 1) return;
  const detail::StepBuffers buffers{scratch_, options_.piece_floats, &remote_, options_.remote_send_window};
  switch (algorithm_) {
    case AllreduceAlgorithm::Tree:
      return detail::allreduce_tree(comm_, data, count, buffers);
    case AllreduceAlgorithm::Ring:
      return detail::allreduce_ring(comm_, data, count, buffers);
    case AllreduceAlgorithm::HalvingDoubling:
      return detail::allreduce_halving_doubling(comm_, data, count, buffers);
    case AllreduceAlgorithm::ParameterServer:
      return detail::allreduce_parameter_server(comm_, data, count, buffers);
    case AllreduceAlgorithm::Mpi:
      return detail::allreduce_mpi(comm_, data, count);
    case AllreduceAlgorithm::SharedMemory:
      return shm_->in_arena(data, count) ? shm_->run_in_arena(data, count) : shm_->run(data, count);
  }
  FC_ASSERT(false);
}

float* Allreducer::arena(size_t floats) { return shm_ ? shm_->arena(floats) : nullptr; }

void allreduce(const Communicator& comm, AllreduceAlgorithm algorithm, float* data, size_t count) {
  Allreducer(comm, algorithm).run(data, count);
}

}  // namespace fc::distrib
