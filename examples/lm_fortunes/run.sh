#!/usr/bin/env bash
# The fortunes language model end to end: Debian's fortunes text -> byte tokens, a GPT exported by
# PyTorch, trained by fcrun on 2 ranks, then the same training in PyTorch, and the two validation
# losses side by side (exit 1 if they differ by more than 2%).
#   bash examples/lm_fortunes/run.sh      (the budget and hyperparameters: train.toml, read by both)
# REF_PYTHON and SKIP_REFERENCE=1 as examples/train_both.sh says.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
EX="$ROOT/examples/lm_fortunes"
"$ROOT/scripts/setup.sh"
# Debian's fortunes package, only for this example (idempotent, as scripts/setup.sh).
if ! dpkg-query -W -f='${Status}' fortunes 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends fortunes
fi
[[ -x "$ROOT/build/bin/fcrun" ]] || "$ROOT/scripts/build.sh" "$ROOT/build"
/usr/bin/python3 "$EX/prepare.py" "$EX" 2> >(grep -v Warning >&2)
exec "$ROOT/examples/train_both.sh" "$EX"
