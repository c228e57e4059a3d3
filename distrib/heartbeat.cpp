// Heartbeat thread (see heartbeat.h).
#include "distrib/heartbeat.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "support/error.h"

namespace fc::distrib {

namespace {

constexpr int kTagBeat = 7101;
constexpr int32_t kAlive = 1, kGoodbye = 0;
// Payloads of our sends: they must outlive the (eager, quickly completed) requests.
const int32_t kAlivePayload = kAlive, kGoodbyePayload = kGoodbye;
constexpr size_t kWhereaboutsChars = 96;

struct Peer {
  int rank = 0;
  int32_t payload = 0;
  MPI_Request recv = MPI_REQUEST_NULL;
  double last_heard = 0;
  bool gone = false;  // said goodbye
};

// Polls `requests` until all complete or `seconds` pass; frees what is left (a peer that is gone).
void finish_requests(std::vector<MPI_Request>& requests, double seconds) {
  const double deadline = MPI_Wtime() + seconds;
  for (MPI_Request& r : requests) {
    int done = 0;
    while (r != MPI_REQUEST_NULL && MPI_Test(&r, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done &&
           MPI_Wtime() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (r != MPI_REQUEST_NULL && !done) MPI_Request_free(&r);
  }
  requests.clear();
}

}  // namespace

Heartbeat::Heartbeat(const Communicator& comm, HeartbeatOptions options) : comm_(comm.dup()), options_(options) {
  FC_CHECK(options.interval_s > 0 && options.timeout_s > options.interval_s, "heartbeat: timeout ",
           options.timeout_s, " s must exceed the interval ", options.interval_s, " s");
  int level = 0;
  FC_MPI(MPI_Query_thread, &level);
  FC_CHECK(level >= MPI_THREAD_MULTIPLE, "heartbeat: MPI was initialised without MPI_THREAD_MULTIPLE");
  char mine[kWhereaboutsChars] = {};
  std::snprintf(mine, sizeof mine, "host %s, pid %ld", Communicator::processor_name().c_str(),
                static_cast<long>(getpid()));
  std::vector<char> all(kWhereaboutsChars * static_cast<size_t>(comm_.size()));
  FC_MPI(MPI_Allgather, mine, static_cast<int>(kWhereaboutsChars), MPI_CHAR, all.data(),
         static_cast<int>(kWhereaboutsChars), MPI_CHAR, comm_.comm());
  for (int k = 0; k < comm_.size(); ++k) {
    const char* at = all.data() + kWhereaboutsChars * static_cast<size_t>(k);
    whereabouts_.emplace_back(at, strnlen(at, kWhereaboutsChars));
  }
  if (comm_.size() > 1)
    thread_ = std::thread([this] {
      try {
        loop();
      } catch (const std::exception& e) {  // an MPI failure: the job cannot be watched any more
        std::fprintf(stderr, "fcrun: rank %d: heartbeat: %s\n", comm_.rank(), e.what());
        std::fflush(stderr);
        comm_.abort(1);
      }
    });
}

Heartbeat::~Heartbeat() { stop(); }

void Heartbeat::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void Heartbeat::loop() {
  // Rank 0 watches every rank; every other rank watches rank 0.
  std::vector<Peer> peers;
  if (comm_.rank() == 0)
    for (int k = 1; k < comm_.size(); ++k) peers.push_back({k});
  else
    peers.push_back({0});
  const double start = MPI_Wtime();
  for (Peer& p : peers) {
    p.last_heard = start;
    FC_MPI(MPI_Irecv, &p.payload, 1, MPI_INT32_T, p.rank, kTagBeat, comm_.comm(), &p.recv);
  }
  std::vector<MPI_Request> sends;
  double next_beat = start;
  const auto poll = std::chrono::duration<double>(std::min(0.05, options_.interval_s / 4));
  while (!stopping_) {
    const double now = MPI_Wtime();
    if (now >= next_beat) {
      finish_requests(sends, 0);  // earlier beats: complete by now, or their peer is gone
      for (const Peer& p : peers)
        if (!p.gone) {
          sends.emplace_back();
          FC_MPI(MPI_Isend, &kAlivePayload, 1, MPI_INT32_T, p.rank, kTagBeat, comm_.comm(), &sends.back());
        }
      next_beat = now + options_.interval_s;
    }
    for (Peer& p : peers) {
      if (p.gone) continue;
      int arrived = 0;
      FC_MPI(MPI_Test, &p.recv, &arrived, MPI_STATUS_IGNORE);
      if (arrived) {
        p.last_heard = now;
        if (p.payload == kGoodbye)
          p.gone = true;
        else
          FC_MPI(MPI_Irecv, &p.payload, 1, MPI_INT32_T, p.rank, kTagBeat, comm_.comm(), &p.recv);
      } else if (now - p.last_heard > options_.timeout_s) {
        std::fprintf(stderr,
                     "fcrun: rank %d (%s) stopped responding: no heartbeat for %.1f s; ending the job "
                     "([distributed] stall_timeout_s = %g)\n",
                     p.rank, whereabouts_[static_cast<size_t>(p.rank)].c_str(), now - p.last_heard,
                     options_.timeout_s);
        std::fflush(stderr);
        comm_.abort(1);
      }
    }
    std::this_thread::sleep_for(poll);
  }
  // Goodbye: the peers stop expecting us. Our pending receives are cancelled. Errors are ignored
  // here: a peer may have finished already.
  for (const Peer& p : peers)
    if (!p.gone) {
      sends.emplace_back();
      if (MPI_Isend(&kGoodbyePayload, 1, MPI_INT32_T, p.rank, kTagBeat, comm_.comm(), &sends.back()) != MPI_SUCCESS)
        sends.back() = MPI_REQUEST_NULL;
    }
  finish_requests(sends, 1.0);
  for (Peer& p : peers)
    if (p.recv != MPI_REQUEST_NULL) {
      MPI_Cancel(&p.recv);
      MPI_Wait(&p.recv, MPI_STATUS_IGNORE);
    }
}

}  // namespace fc::distrib
