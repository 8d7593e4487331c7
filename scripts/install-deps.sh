#!/usr/bin/env bash
# Installs what convkit needs on Debian/Ubuntu, only if it is missing:
# the compiler, CMake, Eigen, doctest, zlib, libpng, libjpeg-turbo, stb_image and the real Fashion-MNIST data set.
set -euo pipefail
packages=(g++ cmake make libeigen3-dev doctest-dev zlib1g-dev libpng-dev libjpeg-dev libstb-dev dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "convkit: all dependencies present (${packages[*]})"
  exit 0
fi
echo "convkit: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}"
