// Heartbeat: ends a job whose ranks stop responding, instead of letting the others hang.
//
// A rank that dies is noticed by the launcher (mpirun ends the job). A rank that stops without
// dying (SIGSTOP, a debugger, a swapped-out or wedged host) is not: the others wait for it in
// their next collective forever. So every rank runs a small thread that exchanges a heartbeat with
// rank 0 every `interval_s` on a communicator of its own: rank 0 hears from every rank, every rank
// hears from rank 0. When rank 0 misses a rank's heartbeats for `timeout_s`, it prints which rank
// (and its host and pid) went silent and aborts the job; a rank that misses rank 0's does the same
// naming rank 0. The thread runs beside computation and communication, so a long step never looks
// like a stall; it needs MPI_THREAD_MULTIPLE.
//
// stop() (and the destructor) says goodbye: a rank that finished is no longer expected to beat, so
// rank 0 may go on writing the trained model while the others wait in MPI_Finalize.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "distrib/communicator.h"

namespace fc::distrib {

struct HeartbeatOptions {
  double interval_s = 0.5;
  double timeout_s = 10;
};

class Heartbeat {
 public:
  // Collective over `comm` (duplicates it). Requires MPI_THREAD_MULTIPLE (Communicator::init).
  Heartbeat(const Communicator& comm, HeartbeatOptions options);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // Sends the goodbye and joins the thread. Idempotent.
  void stop();

 private:
  void loop();

  Communicator comm_;
  HeartbeatOptions options_;
  std::vector<std::string> whereabouts_;  // per rank: "host H, pid P" (gathered at start)
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace fc::distrib
