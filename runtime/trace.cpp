#include "runtime/trace.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "support/error.h"

namespace fc::runtime {

namespace {
std::unique_ptr<Tracer> g_tracer;
Tracer* g_active = nullptr;

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}
}  // namespace

Tracer* Tracer::active() { return g_active; }

std::string Tracer::rank_path(const std::string& path, int rank) {
  if (rank == 0) return path;
  std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + ".rank" + std::to_string(rank) + p.extension().string())).string();
}

void Tracer::start(const std::string& path, int rank) {
  g_tracer = std::make_unique<Tracer>();
  g_tracer->path_ = path;
  g_tracer->rank_ = rank;
  g_active = g_tracer.get();
}

double Tracer::now_us() {
  using namespace std::chrono;
  return duration<double, std::micro>(steady_clock::now().time_since_epoch()).count();
}

void Tracer::record(const char* category, const std::string& name, double begin_us, double end_us, int tid) {
  std::lock_guard lock(mutex_);
  events_.push_back({category, name, begin_us, end_us, tid});
}

void Tracer::finish() {
  Tracer* t = g_active;
  if (!t) return;
  g_active = nullptr;
  const std::string path = rank_path(t->path_, t->rank_);
  std::ofstream f(path);
  FC_CHECK(f, path, ": cannot write the trace");
  f << "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  f << "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": " << t->rank_ << ", \"args\": {\"name\": \"rank "
    << t->rank_ << "\"}},\n";
  f << "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": " << t->rank_ << ", \"tid\": 0, \"args\": {\"name\": \"compute\"}},\n";
  f << "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": " << t->rank_ << ", \"tid\": 1, \"args\": {\"name\": \"communication\"}},\n";
  f << "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": " << t->rank_ << ", \"tid\": 2, \"args\": {\"name\": \"data loader\"}}";
  char num[64];
  for (const Event& e : t->events_) {
    std::snprintf(num, sizeof num, "%.3f, \"dur\": %.3f", e.begin_us, e.end_us - e.begin_us);
    f << ",\n{\"ph\": \"X\", \"cat\": \"" << e.category << "\", \"name\": \"" << json_escape(e.name)
      << "\", \"pid\": " << t->rank_ << ", \"tid\": " << e.tid << ", \"ts\": " << num << "}";
  }
  f << "\n]}\n";
  FC_CHECK(f.good(), path, ": writing the trace failed");
  g_tracer.reset();
}

}  // namespace fc::runtime
