// Internals shared by the allreduce algorithm files: balanced partitions, the summation loops, the
// pieced send/receive step every point-to-point algorithm is built from, and one entry point per
// algorithm (dispatched by Allreducer in allreduce.cpp).
#pragma once

#include <cstddef>
#include <vector>

#include "distrib/communicator.h"

namespace fc::distrib::detail {

// A contiguous range of elements.
struct Range {
  size_t offset = 0;
  size_t count = 0;
};

// Part `index` of `count` elements cut into `parts` nearly equal contiguous parts (the first
// count % parts parts hold one element more). Every count, including 0 and counts < parts, works.
Range partition(size_t count, int parts, int index);

// dst[i] += src[i] for i < n.
void add_into(float* __restrict dst, const float* __restrict src, size_t n);
// dst[i] = a[i] + b[i] for i < n (dst may equal a).
void add_to(float* dst, const float* a, const float* __restrict b, size_t n);

// One step of a point-to-point algorithm: sends send[0..send_count) to `dest` and receives
// recv_count floats from `source` (either side may be absent: count 0 or rank MPI_PROC_NULL).
// With accumulate, received floats land in `scratch` and are added into recv[0..recv_count)
// piece by piece as pieces arrive (the sum of a piece overlaps the transfer of the next);
// without, they are received straight into recv. Send and receive ranges must not overlap.
// Sends to a rank on another host keep at most `remote_window` pieces in flight (0: no limit).
// With SendCompletion::Delivered, sends are synchronous (a piece counts as sent once the receiver
// has matched it; receives are posted first, so in effect once it has arrived): a rank that sends
// to several peers one after another then really does so in turn, where buffered sends (eager
// pieces complete as soon as the socket takes them) would all go at once and share its link.
enum class SendCompletion { Buffered, Delivered };
struct StepBuffers {
  std::vector<float>& scratch;
  size_t piece_floats;
  const std::vector<char>* remote = nullptr;  // per rank: on another host
  size_t remote_window = 0;
};
void exchange(const Communicator& comm, int tag, const float* send, size_t send_count, int dest, float* recv,
              size_t recv_count, int source, bool accumulate, StepBuffers buffers,
              SendCompletion completion = SendCompletion::Buffered);

// Message tags, one per algorithm so that a stray message can never be matched by another.
enum Tag : int { kTagTree = 7001, kTagRing, kTagHalvingDoubling, kTagParameterServer };

void allreduce_tree(const Communicator& comm, float* data, size_t count, StepBuffers buffers);
void allreduce_ring(const Communicator& comm, float* data, size_t count, StepBuffers buffers);
void allreduce_halving_doubling(const Communicator& comm, float* data, size_t count, StepBuffers buffers);
void allreduce_parameter_server(const Communicator& comm, float* data, size_t count, StepBuffers buffers);
void allreduce_mpi(const Communicator& comm, float* data, size_t count);

}  // namespace fc::distrib::detail
