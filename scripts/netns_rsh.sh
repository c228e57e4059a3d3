#!/bin/sh
# mpirun's remote-shell agent for the emulated cluster (scripts/emulate_cluster.sh): instead of
# ssh'ing to HOST, runs COMMAND inside the network namespace that plays HOST.
#
# OpenMPI calls `agent [options] HOST COMMAND...` (--mca plm_rsh_agent). HOST is one of the
# addresses of the hostfile, 10.77.0.K, played by namespace ${FC_EMU_PREFIX}-r$((K-1)); the command
# (OpenMPI's orted, with its environment set up in sh syntax) then runs in that namespace, in its own
# UTS namespace whose hostname is ${FC_EMU_PREFIX}-hK-1, so that every emulated host has its own name.
# FC_EMU_PREFIX comes from the environment mpirun inherited from emulate_cluster.sh.
set -eu
while [ $# -gt 0 ]; do
  case "$1" in
    -*) shift ;;  # ssh-style options, if any: nothing to do for a namespace
    *) break ;;
  esac
done
[ $# -ge 2 ] || { echo "netns_rsh.sh: usage: netns_rsh.sh [options] HOST COMMAND..." >&2; exit 255; }
[ -n "${FC_EMU_PREFIX:-}" ] || { echo "netns_rsh.sh: FC_EMU_PREFIX is not set (run through emulate_cluster.sh)" >&2; exit 255; }
host="$1"
shift
case "$host" in
  10.77.0.*) k=$(( ${host##*.} - 1 )) ;;
  *) echo "netns_rsh.sh: unknown emulated host '$host' (expected 10.77.0.K)" >&2; exit 255 ;;
esac
ns="${FC_EMU_PREFIX}-r$k"
# ssh hands its arguments, joined by spaces, to the remote shell: so do we.
# shellcheck disable=SC2016  # $1, $* are the inner shell's
exec ip netns exec "$ns" unshare --uts /bin/sh -c 'hostname "$1"; shift; exec /bin/sh -c "$*"' \
  netns_rsh "${FC_EMU_PREFIX}-h$k" "$@"
