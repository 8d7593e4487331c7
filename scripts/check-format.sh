#!/usr/bin/env bash
# Fails if any C++/CUDA source differs from .clang-format's style (clang-format 14).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format > /dev/null || { echo "check-format: clang-format not installed"; exit 1; }
mapfile -t files < <(git ls-files '*.hpp' '*.cpp' '*.cu' '*.cuh')
clang-format --dry-run --Werror "${files[@]}"
echo "check-format: ${#files[@]} files follow .clang-format"
