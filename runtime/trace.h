// Chrome trace events (chrome://tracing and Perfetto open the file): complete events ("ph": "X")
// with microsecond timestamps of the host's monotonic clock (so the files of ranks on one host line
// up), one pid per rank, tid 0 for the main thread (forward, backward,
// optimizer, evaluation, and "next batch": the wait for the loader's next batch), tid 1 for the
// communication thread (allreduce, reductions) and tid 2 for the loader's producer thread
// ("make batch": gathering, or decoding and augmenting, one batch ahead of the steps). Off unless `fcrun --trace FILE.json` starts it; when off, every hook is one branch
// on a null pointer.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace fc::runtime {

class Tracer {
 public:
  static constexpr int kMainThread = 0, kCommThread = 1, kLoaderThread = 2;

  // The active tracer, or null.
  static Tracer* active();
  // Starts tracing for this rank; rank r > 0 writes FILE with ".rank<r>" before its extension.
  static void start(const std::string& path, int rank);
  // Writes the file (throws fc::Error naming it) and stops tracing.
  static void finish();
  // Where `rank` writes for the path given to start().
  static std::string rank_path(const std::string& path, int rank);

  static double now_us();
  void record(const char* category, const std::string& name, double begin_us, double end_us, int tid);

 private:
  struct Event {
    const char* category;
    std::string name;
    double begin_us, end_us;
    int tid;
  };
  std::string path_;
  int rank_ = 0;
  std::mutex mutex_;
  std::vector<Event> events_;
};

// Records [construction, destruction) as one event when tracing is on.
class TraceScope {
 public:
  TraceScope(const char* category, const std::string& name, int tid = Tracer::kMainThread)
      : tracer_(Tracer::active()) {
    if (tracer_) {
      category_ = category;
      name_ = name;
      tid_ = tid;
      begin_ = Tracer::now_us();
    }
  }
  ~TraceScope() {
    if (tracer_) tracer_->record(category_, name_, begin_, Tracer::now_us(), tid_);
  }
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;

 private:
  Tracer* tracer_;
  const char* category_ = "";
  std::string name_;
  int tid_ = 0;
  double begin_ = 0;
};

}  // namespace fc::runtime
