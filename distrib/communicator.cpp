// Communicator: MPI initialisation once per process, checked point-to-point helpers.
#include "distrib/communicator.h"

#include <climits>
#include <cstdlib>

#include "support/error.h"

namespace fc::distrib {

namespace detail {
void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
  fail(call,
       " failed: ", length > 0 ? std::string(text, static_cast<size_t>(length)) : "error code " + std::to_string(rc));
}
}  // namespace detail

namespace {

bool mpi_finalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

// Registered with atexit by init() when we were the ones to initialise MPI.
void finalize_at_exit() {
  if (!mpi_finalized()) MPI_Finalize();
}

int checked_count(size_t count) {
  FC_CHECK(count <= static_cast<size_t>(INT_MAX), "MPI message of ", count, " elements exceeds INT_MAX; split it");
  return static_cast<int>(count);
}

}  // namespace

void Communicator::init(int required_thread_level) {
  int initialized = 0;
  FC_MPI(MPI_Initialized, &initialized);
  if (!initialized) {
    FC_CHECK(!mpi_finalized(), "MPI used after MPI_Finalize");
    // Our point-to-point algorithms send 256 KiB pieces (AllreduceOptions::piece_floats). Over TCP,
    // OpenMPI sends pieces above its eager limit (64 KiB) as rendezvous, whose replies queue behind the
    // data the receiver is sending itself: ring and halving-doubling exchanges ran at half the link
    // rate (bench/EMULATION.md). Eager pieces up to 1 MiB avoid that. Set here, before MPI starts, so
    // that it holds under any launcher (fcrun -n, mpirun, srun); a value the user set (mpirun --mca or
    // OMPI_MCA_* in the environment) wins. Other MPI libraries ignore these variables.
    setenv("OMPI_MCA_btl_tcp_eager_limit", "1048576", 0);
    setenv("OMPI_MCA_btl_tcp_rndv_eager_limit", "1048576", 0);
    int provided = 0;
    // MPI_Init_thread errors are fatal by MPI's default (no communicator exists yet to set a handler on).
    FC_MPI(MPI_Init_thread, nullptr, nullptr, required_thread_level, &provided);
    std::atexit(finalize_at_exit);
    FC_MPI(MPI_Comm_set_errhandler, MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  int provided = 0;
  FC_MPI(MPI_Query_thread, &provided);
  FC_CHECK(provided >= required_thread_level, "MPI provides thread level ", provided, ", below the required ",
           required_thread_level);
}

Communicator& Communicator::world() {
  // Leaked on purpose: its MPI_Comm must not be freed after the atexit MPI_Finalize.
  static Communicator* world = [] {
    init();
    MPI_Comm dup = MPI_COMM_NULL;
    FC_MPI(MPI_Comm_dup, MPI_COMM_WORLD, &dup);
    return new Communicator(dup);
  }();
  return *world;
}

Communicator::Communicator(MPI_Comm comm) : comm_(comm) {
  if (comm_ == MPI_COMM_NULL) return;
  FC_MPI(MPI_Comm_set_errhandler, comm_, MPI_ERRORS_RETURN);
  FC_MPI(MPI_Comm_rank, comm_, &rank_);
  FC_MPI(MPI_Comm_size, comm_, &size_);
}

Communicator::~Communicator() {
  if (comm_ != MPI_COMM_NULL && !mpi_finalized()) MPI_Comm_free(&comm_);
}

Communicator::Communicator(Communicator&& other) noexcept : comm_(other.comm_), rank_(other.rank_), size_(other.size_) {
  other.comm_ = MPI_COMM_NULL;
}

Communicator& Communicator::operator=(Communicator&& other) noexcept {
  if (this != &other) {
    if (comm_ != MPI_COMM_NULL && !mpi_finalized()) MPI_Comm_free(&comm_);
    comm_ = other.comm_;
    rank_ = other.rank_;
    size_ = other.size_;
    other.comm_ = MPI_COMM_NULL;
  }
  return *this;
}

void Communicator::barrier() const { FC_MPI(MPI_Barrier, comm_); }

Communicator Communicator::split(int color, int key) const {
  MPI_Comm sub = MPI_COMM_NULL;
  FC_MPI(MPI_Comm_split, comm_, color < 0 ? MPI_UNDEFINED : color, key, &sub);
  return Communicator(sub);
}

Communicator Communicator::split_shared() const {
  MPI_Comm sub = MPI_COMM_NULL;
  FC_MPI(MPI_Comm_split_type, comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &sub);
  return Communicator(sub);
}

std::vector<char> Communicator::ranks_on_other_hosts() const {
  Communicator local = split_shared();
  MPI_Group all = MPI_GROUP_NULL, mine = MPI_GROUP_NULL;
  FC_MPI(MPI_Comm_group, comm_, &all);
  FC_MPI(MPI_Comm_group, local.comm(), &mine);
  std::vector<int> local_ranks(static_cast<size_t>(local.size())), ranks(local_ranks.size());
  for (size_t i = 0; i < local_ranks.size(); ++i) local_ranks[i] = static_cast<int>(i);
  FC_MPI(MPI_Group_translate_ranks, mine, local.size(), local_ranks.data(), all, ranks.data());
  FC_MPI(MPI_Group_free, &mine);
  FC_MPI(MPI_Group_free, &all);
  std::vector<char> other(static_cast<size_t>(size_), 1);
  for (int r : ranks) other[static_cast<size_t>(r)] = 0;
  return other;
}

Communicator Communicator::dup() const {
  MPI_Comm copy = MPI_COMM_NULL;
  FC_MPI(MPI_Comm_dup, comm_, &copy);
  return Communicator(copy);
}

MPI_Request Communicator::isend(const float* data, size_t count, int dest, int tag) const {
  MPI_Request request = MPI_REQUEST_NULL;
  FC_MPI(MPI_Isend, data, checked_count(count), MPI_FLOAT, dest, tag, comm_, &request);
  return request;
}

MPI_Request Communicator::issend(const float* data, size_t count, int dest, int tag) const {
  MPI_Request request = MPI_REQUEST_NULL;
  FC_MPI(MPI_Issend, data, checked_count(count), MPI_FLOAT, dest, tag, comm_, &request);
  return request;
}

MPI_Request Communicator::irecv(float* data, size_t count, int source, int tag) const {
  MPI_Request request = MPI_REQUEST_NULL;
  FC_MPI(MPI_Irecv, data, checked_count(count), MPI_FLOAT, source, tag, comm_, &request);
  return request;
}

MPI_Request Communicator::isend_bytes(const void* data, size_t bytes, int dest, int tag) const {
  MPI_Request request = MPI_REQUEST_NULL;
  FC_MPI(MPI_Isend, data, checked_count(bytes), MPI_BYTE, dest, tag, comm_, &request);
  return request;
}

MPI_Request Communicator::irecv_bytes(void* data, size_t bytes, int source, int tag) const {
  MPI_Request request = MPI_REQUEST_NULL;
  FC_MPI(MPI_Irecv, data, checked_count(bytes), MPI_BYTE, source, tag, comm_, &request);
  return request;
}

void Communicator::send(const float* data, size_t count, int dest, int tag) const {
  FC_MPI(MPI_Send, data, checked_count(count), MPI_FLOAT, dest, tag, comm_);
}

void Communicator::recv(float* data, size_t count, int source, int tag) const {
  FC_MPI(MPI_Recv, data, checked_count(count), MPI_FLOAT, source, tag, comm_, MPI_STATUS_IGNORE);
}

void Communicator::wait(MPI_Request& request) { FC_MPI(MPI_Wait, &request, MPI_STATUS_IGNORE); }

void Communicator::wait_all(std::span<MPI_Request> requests) {
  if (requests.empty()) return;
  FC_MPI(MPI_Waitall, checked_count(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
}

double Communicator::max(double value) const {
  double result = 0;
  FC_MPI(MPI_Allreduce, &value, &result, 1, MPI_DOUBLE, MPI_MAX, comm_);
  return result;
}

void Communicator::broadcast_bytes(void* data, size_t bytes, int root) const {
  FC_MPI(MPI_Bcast, data, checked_count(bytes), MPI_BYTE, root, comm_);
}

std::string Communicator::processor_name() {
  char name[MPI_MAX_PROCESSOR_NAME];
  int length = 0;
  FC_MPI(MPI_Get_processor_name, name, &length);
  return std::string(name, static_cast<size_t>(length));
}

void Communicator::abort(int exit_code) const {
  MPI_Abort(comm_ == MPI_COMM_NULL ? MPI_COMM_WORLD : comm_, exit_code);
  std::_Exit(exit_code);  // MPI_Abort should not return; make sure we do not either.
}

}  // namespace fc::distrib
