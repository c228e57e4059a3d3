#!/usr/bin/env bash
# Emulated cluster: runs COMMAND as an N-rank OpenMPI job (over TCP) in which every rank is a
# "host" of its own, a network namespace whose only link to the others has a given bandwidth and
# one-way latency, so that the allreduce algorithms and the cost model can be checked against a
# known interconnect on one machine.
#
# usage: scripts/emulate_cluster.sh --ranks N (--profile NAME | --rate RATE --delay DELAY)
#                                   [--congestion-control NAME] [--mpirun-args "..."] [--] COMMAND...
#   --profile   1g-50us (1 Gb/s, 50 us one way), 10g-5us (10 Gb/s, 5 us), 100m-500us
#   --rate      link bandwidth per direction: 500mbit, 1gbit, 10gbit, 2.5gbit ...
#   --delay     one-way latency between two hosts: 50us, 1ms, 800ns ...
#   --congestion-control  TCP congestion control inside the hosts (reno, bbr, ...; default: this
#               machine's). It matters: see bench/EMULATION.md.
#   COMMAND runs on every rank under mpirun, e.g.
#     scripts/emulate_cluster.sh --ranks 4 --profile 1g-50us -- build/bin/fcrun bench allreduce \
#         --algorithm ring,tree --bytes 1MiB
#   (fcrun finds itself under mpirun and runs as one rank of the job: no -n.)
#
# The network: namespace ${prefix}-rK (K = 0..N-1) has one interface, fce0, address 10.77.0.(K+1)/24.
# This kernel has no netem (nor fq), so tc cannot add latency: the interfaces are tun devices joined
# by a small userspace switch (fclink, the C program below, compiled on the fly), which models every
# host's full-duplex link to a non-blocking cut-through switch:
#   a packet of L bytes from host s to host d leaves s's link at  t1 = max(now, free_out[s]) (+ L/rate),
#   reaches d's port after the delay and is delivered at            t2 = max(t1 + delay, free_in[d]) + L/rate,
# so an uncontended packet takes delay + L/rate, a host sends and receives at `rate` at most, and
# incast (the parameter server) queues at the receiver. The MTU is 64000 bytes (fewer packets for the
# switch to move; the per-byte cost is the same). The switch runs SCHED_FIFO so that ranks spinning in
# MPI do not delay its packets.
#
# mpirun runs in namespace r0 (hostname ${prefix}-h0); the other hosts are reached through
# scripts/netns_rsh.sh (--mca plm_rsh_agent), which starts OpenMPI's daemon in the namespace (and its
# own UTS namespace: every host has its own hostname, so MPI_COMM_TYPE_SHARED and
# OMPI_COMM_WORLD_LOCAL_SIZE see one rank per host). MPI traffic is forced onto TCP over fce0
# (pml ob1, btl tcp,self). All ranks still share this machine's cores: keep N and the work small.
#
# Everything (namespaces, tun devices, switch, temporary files) is removed on exit, on INT/TERM and
# when a rank dies; the exit status is mpirun's (non-zero when a rank failed). Invocations do not
# collide: names carry the script's pid. Namespaces left by a script killed with SIGKILL are removed
# by the next invocation.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="fcemu$$"
SUBNET="10.77.0.0/24"

usage() {
  sed -n '/^# usage:/,/^#   (fcrun/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() { echo "emulate_cluster.sh: $*" >&2; exit 2; }

# 1gbit -> 1000000000 (bits per second)
parse_rate() {
  local v="$1" num unit
  num="${v%%[a-zA-Z]*}"; unit="${v#"$num"}"
  [[ "$num" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--rate: '$v' is not a rate (e.g. 1gbit, 500mbit)"
  case "$unit" in
    bit|"") awk -v n="$num" 'BEGIN { printf "%.0f", n }' ;;
    kbit) awk -v n="$num" 'BEGIN { printf "%.0f", n * 1e3 }' ;;
    mbit) awk -v n="$num" 'BEGIN { printf "%.0f", n * 1e6 }' ;;
    gbit) awk -v n="$num" 'BEGIN { printf "%.0f", n * 1e9 }' ;;
    *) die "--rate: unknown unit '$unit' in '$v' (bit, kbit, mbit, gbit)" ;;
  esac
}
# 50us -> 50000 (nanoseconds)
parse_delay() {
  local v="$1" num unit
  num="${v%%[a-zA-Z]*}"; unit="${v#"$num"}"
  [[ "$num" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--delay: '$v' is not a time (e.g. 50us, 1ms)"
  case "$unit" in
    ns) awk -v n="$num" 'BEGIN { printf "%.0f", n }' ;;
    us) awk -v n="$num" 'BEGIN { printf "%.0f", n * 1e3 }' ;;
    ms) awk -v n="$num" 'BEGIN { printf "%.0f", n * 1e6 }' ;;
    s) awk -v n="$num" 'BEGIN { printf "%.0f", n * 1e9 }' ;;
    *) die "--delay: unknown unit '$unit' in '$v' (ns, us, ms, s)" ;;
  esac
}

ranks="" rate="" delay="" mpirun_args="" congestion_control=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ranks) ranks="${2:-}"; shift 2 ;;
    --profile)
      case "${2:-}" in
        1g-50us) rate=1gbit delay=50us ;;
        10g-5us) rate=10gbit delay=5us ;;
        100m-500us) rate=100mbit delay=500us ;;
        *) die "--profile: unknown profile '${2:-}' (1g-50us, 10g-5us, 100m-500us)" ;;
      esac
      shift 2 ;;
    --rate) rate="${2:-}"; shift 2 ;;
    --delay) delay="${2:-}"; shift 2 ;;
    --mpirun-args) mpirun_args="${2:-}"; shift 2 ;;
    --congestion-control) congestion_control="${2:-}"; shift 2 ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || usage
[[ "$ranks" =~ ^[0-9]+$ && "$ranks" -ge 1 && "$ranks" -le 200 ]] || die "--ranks: need 1..200, got '$ranks'"
[[ -n "$rate" && -n "$delay" ]] || die "give --profile or both --rate and --delay"
if [[ -n "$congestion_control" ]]; then
  allowed="$(sysctl -n net.ipv4.tcp_allowed_congestion_control)"
  [[ " $allowed " == *" $congestion_control "* ]] ||
    die "--congestion-control: '$congestion_control' is not allowed here (net.ipv4.tcp_allowed_congestion_control: $allowed)"
fi
rate_bps="$(parse_rate "$rate")"
delay_ns="$(parse_delay "$delay")"
[[ "$rate_bps" -gt 0 ]] || die "--rate must be > 0"
[[ "$(id -u)" -eq 0 ]] || die "needs root (network namespaces)"
for tool in ip unshare cc mpirun; do
  command -v "$tool" >/dev/null || die "needs '$tool' on PATH"
done
[[ -c /dev/net/tun ]] || die "needs /dev/net/tun"

# Namespaces of earlier invocations whose script is gone (killed with SIGKILL).
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
  if [[ "$ns" =~ ^fcemu([0-9]+)-r[0-9]+$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  fi
done
for dir in /tmp/fcemu[0-9]*.* "${TMPDIR:-/tmp}"/ompi.fcemu[0-9]*-h*; do
  if [[ -e "$dir" && "$dir" =~ fcemu([0-9]+)[.-] ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
    rm -rf "$dir"
  fi
done

TMP="$(mktemp -d "/tmp/$PREFIX.XXXXXX")"
namespaces=()
switch_pid=""
mpirun_pid=""

# shellcheck disable=SC2317  # reached through the traps
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$mpirun_pid" ]] && kill -0 "$mpirun_pid" 2>/dev/null; then
    kill -TERM "$mpirun_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$mpirun_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$mpirun_pid" 2>/dev/null || true
  fi
  # Whatever still runs in our namespaces (daemons, ranks) was started by this script.
  local ns pids
  for ns in "${namespaces[@]}"; do
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    # shellcheck disable=SC2086  # one pid per word
    [[ -z "$pids" ]] || kill -KILL $pids 2>/dev/null || true
  done
  if [[ -n "$switch_pid" ]]; then
    kill -TERM "$switch_pid" 2>/dev/null || true
    wait "$switch_pid" 2>/dev/null || true
  fi
  for ns in "${namespaces[@]}"; do
    for _ in 1 2 3 4 5; do
      ip netns del "$ns" 2>/dev/null && break
      sleep 0.2
    done
  done
  # OpenMPI's session directories (named after the hosts' names) of a job that did not end cleanly.
  rm -rf "$TMP" "${TMPDIR:-/tmp}/ompi.$PREFIX-h"*
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the userspace switch -------------------------------------------------------------------
cat >"$TMP/fclink.c" <<'EOF'
// fclink RATE_BITS_PER_S DELAY_NS NS0 NS1 ...: creates tun device fce0 in each network namespace
// (/var/run/netns/NSk) and switches IPv4 packets between them by destination 10.77.0.(k+1), each
// delivered at max(t1 + delay, free_in[dst]) + L/rate where t1 = max(now, free_out[src]) (see
// emulate_cluster.sh). A host's device is read only while its outgoing link is free, so that queues
// build in the kernel (where TCP sees them) rather than here. Prints "ready" once the devices exist;
// runs until killed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAXPKT 65536
#define MAXQUEUED (256u << 20)  // bytes held at once; beyond, drop (TCP recovers)

typedef struct { uint64_t t, seq; int dst, len; unsigned char* data; } Pkt;
static Pkt* heap; static size_t heap_n, heap_cap; static uint64_t queued_bytes;

static int before(const Pkt* a, const Pkt* b) { return a->t < b->t || (a->t == b->t && a->seq < b->seq); }
static void push(Pkt p) {
  if (heap_n == heap_cap) { heap_cap = heap_cap ? 2 * heap_cap : 1024; heap = realloc(heap, heap_cap * sizeof(Pkt)); }
  size_t i = heap_n++;
  while (i > 0 && before(&p, &heap[(i - 1) / 2])) { heap[i] = heap[(i - 1) / 2]; i = (i - 1) / 2; }
  heap[i] = p;
}
static Pkt pop(void) {
  Pkt top = heap[0], last = heap[--heap_n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= heap_n) break;
    if (c + 1 < heap_n && before(&heap[c + 1], &heap[c])) ++c;
    if (!before(&heap[c], &last)) break;
    heap[i] = heap[c]; i = c;
  }
  if (heap_n) heap[i] = last;
  return top;
}
static uint64_t now_ns(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec; }
static void fatal(const char* what) { perror(what); exit(1); }

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: fclink RATE_BPS DELAY_NS NS...\n"); return 2; }
  const pid_t parent = getppid();
  const double ns_per_byte = 8e9 / atof(argv[1]);
  const uint64_t delay = strtoull(argv[2], 0, 10);
  const int n = argc - 3;
  int* fd = calloc(n, sizeof(int));
  uint64_t* free_out = calloc(n, sizeof(uint64_t));
  uint64_t* free_in = calloc(n, sizeof(uint64_t));
  char* blocked = calloc(n, 1);  // link busy: not reading its tun device until free_out
  int self = open("/proc/self/ns/net", O_RDONLY);
  if (self < 0) fatal("fclink: /proc/self/ns/net");
  for (int k = 0; k < n; ++k) {
    char path[256];
    snprintf(path, sizeof path, "/var/run/netns/%s", argv[3 + k]);
    int nsfd = open(path, O_RDONLY);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) fatal(path);
    close(nsfd);
    fd[k] = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd[k] < 0) fatal("fclink: /dev/net/tun");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strcpy(ifr.ifr_name, "fce0");
    if (ioctl(fd[k], TUNSETIFF, &ifr) < 0) fatal("fclink: TUNSETIFF");
  }
  if (setns(self, CLONE_NEWNET) < 0) fatal("fclink: setns back");
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // the script was killed with SIGKILL: go with it
  if (getppid() != parent) return 1;
  prctl(PR_SET_TIMERSLACK, 1UL);
  struct sched_param sp = {.sched_priority = 10};
  if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) perror("fclink: SCHED_FIFO (continuing)");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (ep < 0 || tfd < 0) fatal("fclink: epoll/timerfd");
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)n};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
  for (int k = 0; k < n; ++k) {
    ev.data.u32 = (uint32_t)k;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd[k], &ev) < 0) fatal("fclink: epoll_ctl");
  }
  printf("ready\n");
  fflush(stdout);
  unsigned char** spare = calloc(4096, sizeof(unsigned char*));
  int nspare = 0;
  uint64_t seq = 0;
  for (;;) {
    uint64_t now = now_ns();
    uint64_t wake = 0;  // earliest time a blocked link frees up (0: none)
    for (int k = 0; k < n; ++k) {
      if (!blocked[k]) continue;
      if (free_out[k] <= now) {
        blocked[k] = 0;
        ev.events = EPOLLIN;
        ev.data.u32 = (uint32_t)k;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd[k], &ev);
      } else if (!wake || free_out[k] < wake) {
        wake = free_out[k];
      }
    }
    while (heap_n && heap[0].t <= now) {
      Pkt p = pop();
      if (write(fd[p.dst], p.data, p.len) < 0 && errno != EAGAIN && errno != EIO) perror("fclink: write");
      queued_bytes -= p.len;
      if (nspare < 4096) spare[nspare++] = p.data; else free(p.data);
    }
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (heap_n && (!wake || heap[0].t < wake)) wake = heap[0].t;
    its.it_value.tv_sec = wake / 1000000000u;
    its.it_value.tv_nsec = wake % 1000000000u;
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, 0);
    struct epoll_event events[64];
    int m = epoll_wait(ep, events, 64, -1);
    if (m < 0 && errno != EINTR) fatal("fclink: epoll_wait");
    for (int e = 0; e < m; ++e) {
      int src = (int)events[e].data.u32;
      if (src == n) { uint64_t x; if (read(tfd, &x, sizeof x) < 0) {} continue; }
      for (int burst = 0; burst < 64; ++burst) {
        unsigned char* buf = nspare ? spare[--nspare] : malloc(MAXPKT);
        ssize_t len = read(fd[src], buf, MAXPKT);
        int dst = len >= 20 ? buf[19] - 1 : -1;
        int ok = len >= 20 && (buf[0] >> 4) == 4 && buf[16] == 10 && buf[17] == 77 && buf[18] == 0 && dst >= 0 &&
                 dst < n && dst != src && queued_bytes + (uint64_t)len <= MAXQUEUED;
        if (!ok) {
          spare[nspare++] = buf;
          if (len < 0) break;
          continue;
        }
        uint64_t t = now_ns(), ser = (uint64_t)(len * ns_per_byte);
        uint64_t t1 = t > free_out[src] ? t : free_out[src];
        free_out[src] = t1 + ser;
        uint64_t t2 = t1 + delay > free_in[dst] ? t1 + delay : free_in[dst];
        free_in[dst] = t2 + ser;
        queued_bytes += len;
        push((Pkt){t2 + ser, seq++, dst, (int)len, buf});
        if (free_out[src] > t) {  // the link is busy: leave the next packets in the kernel's queue
          blocked[src] = 1;
          ev.events = 0;
          ev.data.u32 = (uint32_t)src;
          epoll_ctl(ep, EPOLL_CTL_MOD, fd[src], &ev);
          break;
        }
      }
    }
  }
}
EOF
cc -O2 -o "$TMP/fclink" "$TMP/fclink.c" || die "cannot compile the link emulator"

for ((k = 0; k < ranks; ++k)); do
  ip netns add "$PREFIX-r$k"
  namespaces+=("$PREFIX-r$k")
done
"$TMP/fclink" "$rate_bps" "$delay_ns" "${namespaces[@]}" >"$TMP/fclink.out" 2>"$TMP/fclink.err" &
switch_pid=$!
for _ in $(seq 100); do
  grep -q ready "$TMP/fclink.out" 2>/dev/null && break
  kill -0 "$switch_pid" 2>/dev/null || die "link emulator failed: $(cat "$TMP/fclink.err")"
  sleep 0.05
done
grep -q ready "$TMP/fclink.out" || die "link emulator did not start"
: >"$TMP/hosts"
for ((k = 0; k < ranks; ++k)); do
  ns="$PREFIX-r$k"
  [[ -z "$congestion_control" ]] || ip netns exec "$ns" sysctl -qw net.ipv4.tcp_congestion_control="$congestion_control"
  ip -n "$ns" link set lo up
  ip -n "$ns" link set fce0 mtu 64000
  ip -n "$ns" addr add "10.77.0.$((k + 1))/24" dev fce0
  ip -n "$ns" link set fce0 up
  echo "10.77.0.$((k + 1)) slots=1" >>"$TMP/hosts"
done

# --- the job ---------------------------------------------------------------------------------
# Every rank shares this machine's cores, but OpenMPI sees one slot per host and would let idle ranks
# spin: a rank waiting for a message then holds a core the rank about to send it needs (at 3 ranks
# on 2 cores, a 4-byte allreduce took 12-20 ms instead of ~0.3 ms). Idle ranks yield instead.
[[ "$mpirun_args" == *mpi_yield_when_idle* ]] || mpirun_args="--mca mpi_yield_when_idle 1 $mpirun_args"
# On a cluster every rank's cores are its own; here any other load on the machine takes turns with
# the ranks, and a rank that waits for a time slice to post its next send leaves its link idle. With
# one busy loop beside 4 hosts at 100 Mb/s, ring and halving-doubling ran 10-14% behind the links
# (2 busy loops: 17-19%), at nice -10 (inherited by every daemon and rank) 4-10%.
export FC_EMU_PREFIX="$PREFIX"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# shellcheck disable=SC2086,SC2016  # --mpirun-args is a list of words; $1, $@ are the inner shell's
ip netns exec "$PREFIX-r0" unshare --uts /bin/sh -c 'hostname "$1"; shift; exec "$@"' sh "$PREFIX-h0" \
  nice -n -10 mpirun -n "$ranks" --hostfile "$TMP/hosts" --bind-to none \
  --mca plm_rsh_agent "$ROOT/scripts/netns_rsh.sh" --mca plm_rsh_no_tree_spawn 1 \
  --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include "$SUBNET" --mca oob_tcp_if_include "$SUBNET" \
  $mpirun_args "$@" </dev/null &
mpirun_pid=$!
set +e
wait "$mpirun_pid"
rc=$?
set -e
mpirun_pid=""
exit "$rc"
