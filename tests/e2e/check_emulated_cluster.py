#!/usr/bin/python3
"""scripts/emulate_cluster.sh: ranks on emulated hosts, shaped links, and nothing left behind.

1. 3 emulated hosts at 1 Gb/s and 50 us: every rank has its own hostname and OpenMPI sees one rank
   per host (OMPI_COMM_WORLD_LOCAL_SIZE=1); `fcrun bench allreduce` (ring, tree; 4 B and 64 KiB)
   prints its JSON lines for 3 ranks, a 4-byte allreduce (4 messages in a row for both algorithms
   at p = 3) takes at least 4 x 50 us, and 64 KiB by ring at least its bandwidth term.
2. The cost model on emulated hosts at 100 Mb/s + 500 us (BBR where allowed): `fcrun bench
   allreduce --alpha-us 500 --bandwidth-gbps 0.1` at 1 MiB for tree and ps on 8 hosts, ring and
   halving-doubling on 4, each within 15% of its prediction (a point off by more is measured up to
   twice more). The hosts' TCP congestion control can be set (reno), and a name the kernel does not
   allow is a one-line error.
3. A rank killed with SIGKILL mid-run: the script exits non-zero within 30 s.
4. SIGTERM to the script mid-run: it exits non-zero.
After each: no namespace and no temporary directory of that invocation is left.

Needs root, `ip`, `unshare`, `cc`, `mpirun`, /dev/net/tun and creatable network namespaces;
otherwise prints SKIP and exits 77.

usage: check_emulated_cluster.py --bin BUILD/bin
"""
import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from e2e_common import check, failures, finish, rank_pid, wait_with_deadline

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EMULATE = os.path.join(ROOT, "scripts", "emulate_cluster.sh")
SKIP = 77


def skip_reason():
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "unshare", "cc", "mpirun"):
        if not shutil.which(tool):
            return f"no {tool}"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    name = f"fcemucheck{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        return "cannot create a network namespace"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def leftovers(pid):
    """Namespaces and temporary directories of the invocation with process id pid."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    return ([n for n in names if n.startswith(f"fcemu{pid}-")] + glob.glob(f"/tmp/fcemu{pid}.*") +
            glob.glob(f"/tmp/ompi.fcemu{pid}-*"))


def start_long(fcrun):
    """An emulated 2-rank job that runs for a long time; returns (process, rank 1's pid)."""
    p = subprocess.Popen([EMULATE, "--ranks", "2", "--profile", "1g-50us", "--", fcrun, "bench", "allreduce",
                          "--algorithm", "ring", "--bytes", "64KiB", "--iters", "1000000"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    pid = None
    while pid is None and time.time() < deadline and p.poll() is None:
        time.sleep(0.2)
        pid = rank_pid(1, f"FC_EMU_PREFIX=fcemu{p.pid}")
    time.sleep(1)  # into the timed loop
    return p, pid


def wait_end(p, timeout):
    return wait_with_deadline(p, timeout, lambda p: p.kill())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    a = ap.parse_args()
    reason = skip_reason()
    if reason:
        print(f"SKIP: emulated cluster needs root, ip, unshare, cc, mpirun and network namespaces ({reason})")
        sys.exit(SKIP)
    fcrun = os.path.join(os.path.abspath(a.bin), "fcrun")

    # 1. Hosts, JSON lines and shaped latency.
    p = subprocess.run([EMULATE, "--ranks", "3", "--profile", "1g-50us", "--", "/bin/sh", "-c",
                        'echo "host $(hostname) $OMPI_COMM_WORLD_LOCAL_SIZE"'], capture_output=True, text=True,
                       timeout=120)
    hosts = [l.split()[1:] for l in p.stdout.splitlines() if l.startswith("host ")]
    check(p.returncode == 0 and len(hosts) == 3 and len({h[0] for h in hosts}) == 3,
          f"3 emulated hosts with their own hostnames: {hosts}")
    check(all(h[1] == "1" for h in hosts), "OpenMPI sees one rank per host (OMPI_COMM_WORLD_LOCAL_SIZE=1)")
    # The hosts' TCP congestion control can be chosen; a name this kernel does not allow is one line, exit 2.
    p = subprocess.run([EMULATE, "--ranks", "2", "--profile", "1g-50us", "--congestion-control", "reno", "--",
                        "cat", "/proc/sys/net/ipv4/tcp_congestion_control"], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0 and p.stdout.split() == ["reno", "reno"], f"--congestion-control reno on both hosts: "
          f"{p.stdout.split()} (exit {p.returncode})")
    p = subprocess.run([EMULATE, "--ranks", "2", "--profile", "1g-50us", "--congestion-control", "nosuch", "--",
                        "true"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "--congestion-control" in p.stderr,
          f"unknown congestion control: one line naming the option, exit 2 ({p.returncode}: {p.stderr.strip()})")
    p = subprocess.Popen([EMULATE, "--ranks", "3", "--profile", "1g-50us", "--", fcrun, "bench", "allreduce",
                          "--algorithm", "ring,tree", "--bytes", "4,64KiB", "--iters", "5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=120)
    rows = {(r["algorithm"], r["bytes"]): r for r in map(json.loads, filter(lambda l: l.startswith("{"),
                                                                             out.splitlines()))}
    check(p.returncode == 0 and len(rows) == 4 and all(r["ranks"] == 3 for r in rows.values()),
          f"bench allreduce on 3 emulated hosts: {len(rows)} JSON lines, exit {p.returncode}")
    for algo in ("ring", "tree"):
        t = rows.get((algo, 4), {}).get("seconds", 0)
        check(t >= 4 * 50e-6, f"4-byte {algo} allreduce takes >= 4 x 50 us ({t * 1e6:.0f} us)")
    t = rows.get(("ring", 65536), {}).get("seconds", 0)
    bandwidth_term = 2 * 2 / 3 * 65536 * 8 / 1e9
    check(t >= bandwidth_term, f"64 KiB ring allreduce takes >= its 1 Gb/s term {bandwidth_term * 1e6:.0f} us "
          f"({t * 1e6:.0f} us)")
    check(not leftovers(p.pid), f"nothing left behind: {leftovers(p.pid)}")
    if failures:
        print(err[-3000:])

    # 2. The cost model against the emulation (issue 6's criterion, short form): 100 Mb/s + 500 us,
    # where the links and not this machine's cores set the pace, 1 MiB, every modelled algorithm within
    # 15% of its prediction for the nominal alpha-beta. Tree and ps on 8 hosts: with BBR, which paces
    # each flow, a tree whose broadcast served its children at once (buffered sends) was -22..-31% there
    # (-15% on 4 hosts; with Reno the kernel's FIFO happened to serialise them). Ring and
    # halving-doubling on 4 hosts: without the raised TCP eager limit they ran at -39/-47%. On 8 hosts
    # every host sends at once, 800 Mb/s through this machine's 2 cores, and with a busy loop beside
    # them they fell 16-22% behind the links (a CI run that looked busy failed so); on 4 hosts -4/-7%.
    # A point off by more than 15% is measured up to twice more before it counts; each attempt prints
    # the CPU time the hypervisor took (steal) and the load, so that a failure says whether the
    # machine was busy.
    allowed = open("/proc/sys/net/ipv4/tcp_allowed_congestion_control").read().split()
    congestion = ["--congestion-control", "bbr"] if "bbr" in allowed else []
    hosts_for = {"tree": 8, "ps": 8, "ring": 4, "halving_doubling": 4}

    def cpu_times():
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(fields[:8]), fields[7]  # total, steal (user nice system idle iowait irq softirq steal)

    def model_errors(algorithms):
        errors = {}
        for hosts in sorted({hosts_for[a] for a in algorithms}):
            group = [a for a in algorithms if hosts_for[a] == hosts]
            total0, steal0 = cpu_times()
            p = subprocess.run([EMULATE, "--ranks", str(hosts), "--profile", "100m-500us", *congestion, "--",
                                fcrun, "bench", "allreduce", "--algorithm", ",".join(group), "--bytes", "1MiB",
                                "--iters", "7", "--alpha-us", "500", "--bandwidth-gbps", "0.1"],
                               capture_output=True, text=True, timeout=180)
            total1, steal1 = cpu_times()
            rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
            check(p.returncode == 0 and len(rows) == len(group), f"bench allreduce with predictions on {hosts} "
                  f"emulated hosts ({' '.join(congestion) or 'default congestion control'}): {len(rows)} JSON "
                  f"lines for {len(group)} algorithms, exit {p.returncode}")
            print(f"     machine during it: steal {100 * (steal1 - steal0) / max(total1 - total0, 1):.0f}%, "
                  f"load {os.getloadavg()[0]:.1f}")
            errors.update({r["algorithm"]: (r, (r["predicted_seconds"] - r["seconds"]) / r["seconds"], hosts)
                           for r in rows})
        return errors

    errors = model_errors(list(hosts_for))
    for attempt in (2, 3):
        again = {a: e for a, (_, e, _) in errors.items() if abs(e) > 0.15}
        if not again:
            break
        print(f"measuring again (attempt {attempt}): " + ", ".join(f"{a} {100 * e:+.0f}%" for a, e in again.items()))
        errors.update(model_errors(list(again)))
    for algo, (r, err, hosts) in errors.items():
        check(abs(err) <= 0.15, f"{algo} 1 MiB on {hosts} hosts: measured {r['seconds'] * 1e3:.1f} ms, model "
              f"{r['predicted_seconds'] * 1e3:.1f} ms ({100 * err:+.0f}%, within 15%)")

    # 3. A rank killed mid-run.
    p, pid = start_long(fcrun)
    check(pid is not None and p.poll() is None, f"emulated 2-rank job runs (rank 1 pid {pid})")
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
    elapsed, out = wait_end(p, 60)
    check(elapsed is not None and elapsed < 30, f"killed rank ends the emulated job within 30 s ({elapsed and round(elapsed, 1)} s)")
    check(p.returncode not in (0, None), f"non-zero exit status ({p.returncode})")
    check(not leftovers(p.pid), f"nothing left behind after the killed rank: {leftovers(p.pid)}")

    # 4. SIGTERM to the script.
    p, pid = start_long(fcrun)
    check(p.poll() is None, "emulated 2-rank job runs")
    p.send_signal(signal.SIGTERM)
    elapsed, out = wait_end(p, 60)
    check(elapsed is not None and p.returncode != 0, f"SIGTERM ends the script, non-zero ({p.returncode})")
    check(not leftovers(p.pid), f"nothing left behind after SIGTERM: {leftovers(p.pid)}")
    job = f"FC_EMU_PREFIX=fcemu{p.pid}"
    check(rank_pid(1, job) is None and rank_pid(0, job) is None, "no rank left running")
    finish()


if __name__ == "__main__":
    main()
