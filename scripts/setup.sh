#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent: does nothing when all are present,
# runs `apt-get update` only when something is missing.
set -euo pipefail
PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler libdnnl-dev libtomlplusplus-dev
  libopenmpi-dev openmpi-bin llvm-14-dev llvm-14-tools libgtest-dev
  zlib1g-dev libjpeg62-turbo-dev libpng-dev iproute2
  clang-14 libclang-rt-14-dev  # scripts/fuzz.sh and sanitize.sh: libFuzzer, sanitizer runtimes
  python3-torch python3-torchvision python3-onnx python3-numpy python3-pil python3-venv
  dataset-fashion-mnist
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
