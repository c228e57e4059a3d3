// Communicator: a thin, checked wrapper over an MPI communicator.
//
// MPI is initialised once per process (the first Communicator::world() or Communicator::init()
// call) and finalised at process exit. Run without mpirun, MPI's singleton init gives a world of
// one rank, so every caller can use the same code path for 1 and N ranks.
//
// Every MPI call is checked: communicators and windows are switched to MPI_ERRORS_RETURN and a
// failing call throws fc::Error naming the call (e.g. "MPI_Isend failed: ..."). On an error in a
// job of several ranks the caller (cli/) should call abort() rather than return from main: other
// ranks may be blocked waiting for this one, and MPI_Finalize would then wait forever.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace fc::distrib {

namespace detail {
// Throws fc::Error "<call> failed: <MPI error string>" when rc is not MPI_SUCCESS.
void check_mpi(int rc, const char* call);
}  // namespace detail

// FC_MPI(MPI_Barrier, comm) calls MPI_Barrier(comm) and throws fc::Error naming MPI_Barrier on error.
#define FC_MPI(fn, ...) ::fc::distrib::detail::check_mpi(fn(__VA_ARGS__), #fn)

class Communicator {
 public:
  // Initialises MPI (once; later calls are no-ops) asking for `required_thread_level`
  // (MPI_THREAD_SERIALIZED suffices for one communication thread that alone calls MPI at a
  // time). Throws if MPI provides less than asked.
  static void init(int required_thread_level = MPI_THREAD_SERIALIZED);

  // The process-wide communicator over all ranks (a duplicate of MPI_COMM_WORLD, so that our
  // tags never meet another library's messages). Initialises MPI on first use.
  static Communicator& world();

  // Takes ownership of `comm` (freed in the destructor). MPI_COMM_NULL gives an invalid
  // communicator (valid() false), which is what ranks outside a split receive.
  explicit Communicator(MPI_Comm comm);
  ~Communicator();
  Communicator(Communicator&& other) noexcept;
  Communicator& operator=(Communicator&& other) noexcept;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  bool valid() const { return comm_ != MPI_COMM_NULL; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  MPI_Comm comm() const { return comm_; }

  void barrier() const;

  // Sub-communicators (collective over this communicator). split(): ranks with equal `color`
  // share one, ordered by `key`; color < 0 (MPI_UNDEFINED) gets an invalid communicator.
  Communicator split(int color, int key) const;
  // The ranks of this communicator that can share memory (MPI_COMM_TYPE_SHARED: same host).
  Communicator split_shared() const;
  // Per rank of this communicator: 1 if it is on another host than this rank (not in
  // split_shared()'s group). Collective.
  std::vector<char> ranks_on_other_hosts() const;
  // The same ranks in a communicator of their own (messages never meet this one's).
  Communicator dup() const;

  // Point-to-point on floats / bytes. Counts above INT_MAX elements are an error (callers chunk).
  MPI_Request isend(const float* data, size_t count, int dest, int tag) const;
  // Completes only once the receiver has matched the message (MPI_Issend), not when the data has
  // been copied out locally: a sender can then tell that a piece has reached its peer.
  MPI_Request issend(const float* data, size_t count, int dest, int tag) const;
  MPI_Request irecv(float* data, size_t count, int source, int tag) const;
  MPI_Request isend_bytes(const void* data, size_t bytes, int dest, int tag) const;
  MPI_Request irecv_bytes(void* data, size_t bytes, int source, int tag) const;
  void send(const float* data, size_t count, int dest, int tag) const;
  void recv(float* data, size_t count, int source, int tag) const;
  static void wait(MPI_Request& request);
  static void wait_all(std::span<MPI_Request> requests);

  // Small collectives used by benches and start-up checks.
  double max(double value) const;
  void broadcast_bytes(void* data, size_t bytes, int root) const;

  // Host name of this rank (MPI_Get_processor_name).
  static std::string processor_name();
  static double wtime() { return MPI_Wtime(); }

  // Ends every rank of the job (MPI_Abort on this communicator). Never returns.
  [[noreturn]] void abort(int exit_code) const;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 0;
};

}  // namespace fc::distrib
