// Prefetcher<T>: calls produce(first), produce(first + 1), ... on a background thread and keeps at
// most `depth` results waiting in a bounded queue; next() hands them out in order. An exception
// thrown by produce() ends the producer and is re-thrown by next() once the results made before it
// have been taken (and by every next() after that). The destructor stops the producer and joins it
// without waiting for the consumer, however full the queue. Internal to runtime/data (BatchLoader).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "support/error.h"

namespace fc::runtime::data {

template <typename T>
class Prefetcher {
 public:
  Prefetcher(std::function<T(int64_t)> produce, int64_t first, size_t depth)
      : produce_(std::move(produce)), next_index_(first), depth_(depth) {
    FC_CHECK(depth_ >= 1, "prefetch depth must be >= 1");
    thread_ = std::thread([this] { run(); });
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    not_full_.notify_all();
    thread_.join();  // the producer is at most one produce() away from seeing `stopping_`
  }

  // Blocks until the next result is ready.
  T next() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || error_; });
    if (queue_.empty()) std::rethrow_exception(error_);
    T v = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return v;
  }

 private:
  void run() {
    try {
      for (;;) {
        {
          // Wait for room before producing, so a full queue costs no work and stops promptly.
          std::unique_lock<std::mutex> lock(mu_);
          not_full_.wait(lock, [&] { return stopping_ || queue_.size() < depth_; });
          if (stopping_) return;
        }
        T v = produce_(next_index_);
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        queue_.push_back(std::move(v));
        ++next_index_;
        not_empty_.notify_one();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      not_empty_.notify_all();
    }
  }

  std::function<T(int64_t)> produce_;
  int64_t next_index_;  // touched by the producer only
  size_t depth_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> queue_;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts after, and joins before, everything above
};

}  // namespace fc::runtime::data
