// fma_peak: the fp32 FLOP/s this CPU's vector units reach, measured, for the "% of peak" column of
// bench/train_throughput.py. A formula (lanes x FMA units x 2 x the clock /proc reports) needs the
// CPU's vector width, its number of FMA units and its real clock under load, and guessed any of them
// wrong on some machine of ours: AVX2's 8 lanes assumed on AVX-512 CPUs read over 100%, and a VM's
// "cpu MHz" is its base clock, not its turbo one (issue 23).
//
// Each thread runs kChains independent chains acc = acc * a + b in vector registers of the widest ISA
// the CPU has, chosen at run time (AVX-512F, else AVX2 + FMA, else SSE with a multiply and an add,
// as SSE has no FMA). Independent chains hide the FMA latency: 4-5 cycles x 2 FMA pipes needs 8-10
// in flight, so with 12 the loop is bound by FMA throughput alone. Each FMA counts 2 flops per lane.
// a < 1 and b > 0 keep every chain at a fixed point away from overflow and denormals, whose slow
// paths would measure the wrong thing. Threads start together and the time runs until the last one
// ends; the best of several trials is reported, because other processes can only slow it down.
//
// usage: fma_peak [--threads 1,2] [--seconds 1.0] [--isa avx512f|avx2|sse]
// prints one JSON line per thread count: {"isa": "avx512f", "lanes": 16, "threads": 1, "gflops": 94.1}
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12;
constexpr int kTrials = 5;

// The chains over GCC vector types of one ISA's register width. acc * a + b is contracted into one
// FMA instruction where the target has FMA (GCC's default -ffp-contract=fast in GNU mode; checked in
// the disassembly), and stays a multiply and an add on SSE, which counts the same 2 flops per lane.
// Returns a sum of the chains so that none is optimised away.
template <typename V, int kLanes>
[[gnu::always_inline]] inline float chains(long iters) {
    V acc[kChains];
    V a, b;
    for (int l = 0; l < kLanes; ++l) a[l] = 0.999999f, b[l] = 1e-6f;
    for (int c = 0; c < kChains; ++c) acc[c] = a * static_cast<float>(c);
    for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 12
        for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * a + b;
    }
    float sum = 0;
    for (int c = 0; c < kChains; ++c)
        for (int l = 0; l < kLanes; ++l) sum += acc[c][l];
    return sum;
}

using V16 = float __attribute__((vector_size(64)));
using V8 = float __attribute__((vector_size(32)));
using V4 = float __attribute__((vector_size(16)));

// One entry per ISA, each compiled for its own target (the template is inlined into it), so that the
// binary runs on any x86-64 and the CPU it runs on picks among them.
__attribute__((target("avx512f"))) float chains_avx512(long iters) { return chains<V16, 16>(iters); }
__attribute__((target("avx2,fma"))) float chains_avx2(long iters) { return chains<V8, 8>(iters); }
float chains_sse(long iters) { return chains<V4, 4>(iters); }

struct Isa {
    std::string_view name;
    int lanes;
    float (*kernel)(long);
    bool supported;
};

std::vector<Isa> isas_widest_first() {
    __builtin_cpu_init();
    return {{"avx512f", 16, chains_avx512, __builtin_cpu_supports("avx512f") != 0},
            {"avx2", 8, chains_avx2, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")},
            {"sse", 4, chains_sse, true}};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Seconds for `threads` threads, started together, to run `iters` iterations each.
double timed_run(const Isa& isa, int threads, long iters) {
    std::latch ready(threads + 1);
    std::atomic<float> sink{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
            ready.arrive_and_wait();
            float s = isa.kernel(iters);
            sink.store(s, std::memory_order_relaxed);
        });
    }
    ready.arrive_and_wait();
    auto start = std::chrono::steady_clock::now();
    for (auto& th : pool) th.join();
    return seconds_since(start);
}

std::vector<int> parse_threads(const std::string& list) {
    std::vector<int> out;
    size_t pos = 0;
    while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        size_t used = 0;
        int n = 0;
        try {
            n = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != item.size() || n < 1) throw std::invalid_argument("--threads takes positive integers, e.g. 1,2");
        out.push_back(n);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

int run(int argc, char** argv) {
    std::vector<int> thread_counts = {1};
    double seconds = 1.0;
    std::string forced;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument("usage: fma_peak [--threads 1,2] [--seconds S] [--isa NAME]");
        std::string value = argv[++i];
        if (arg == "--threads") {
            thread_counts = parse_threads(value);
        } else if (arg == "--seconds") {
            char* end = nullptr;
            seconds = std::strtod(value.c_str(), &end);
            if (*end != '\0' || !(seconds > 0)) throw std::invalid_argument("--seconds takes a positive number");
        } else if (arg == "--isa") {
            forced = value;
        } else {
            throw std::invalid_argument("unknown option " + std::string(arg) +
                                        "; usage: fma_peak [--threads 1,2] [--seconds S] [--isa NAME]");
        }
    }
    std::vector<Isa> isas = isas_widest_first();
    auto chosen = std::find_if(isas.begin(), isas.end(), [&](const Isa& isa) {
        return forced.empty() ? isa.supported : isa.name == forced;
    });
    if (chosen == isas.end()) throw std::invalid_argument("--isa " + forced + " is not one of avx512f, avx2, sse");
    if (!chosen->supported) throw std::runtime_error("this CPU does not support " + forced);

    // Calibrate on one thread: grow the count until a run is long enough to time, then scale it to
    // one trial's share of --seconds (every thread runs as many iterations as the single one did).
    long iters = 1 << 16;
    double took = timed_run(*chosen, 1, iters);
    while (took < 0.02) {
        iters *= 4;
        took = timed_run(*chosen, 1, iters);
    }
    iters = std::max(1L, static_cast<long>(iters * (seconds / kTrials) / took));
    const double flops_per_iter = 2.0 * chosen->lanes * kChains;
    for (int threads : thread_counts) {
        double best = 0;
        for (int trial = 0; trial < kTrials; ++trial) {
            double s = timed_run(*chosen, threads, iters);
            if (s > 0) best = std::max(best, threads * iters * flops_per_iter / s);
        }
        std::printf("{\"isa\": \"%s\", \"lanes\": %d, \"threads\": %d, \"gflops\": %.1f}\n",
                    std::string(chosen->name).c_str(), chosen->lanes, threads, best / 1e9);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "fma_peak: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fma_peak: %s\n", e.what());
        return 1;
    }
}
