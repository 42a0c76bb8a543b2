#!/usr/bin/env bash
# The so-vits-svc diffusion + NSF-HiFiGAN stage benchmarks (issue 13) on CPU and WebGPU, in one command, on a GPU
# machine lent for a few minutes: bench:vocoder, bench:diffusion and bench:sovits-diffusion, each building its
# real-size random-weight networks with Resona's own builders and running every stage on each provider (with
# the node placement of each graph on WebGPU); WebGPU first, so a bench cut off at its budget keeps its GPU
# rows. Logs go to $OUT (the device tool brings that folder back).
#   Here first: bash bench/device/pack.sh; then the device tool: carry [".device"], command
#     bash bench/device/sovits-diffusion.sh
#   Options (environment): ICD=<Vulkan driver JSON> (default NVIDIA's), SIZE=tiny (the smallest sizes: proves
#   the chain runs, e.g. with ICD=/usr/lib/chromium/vk_swiftshader_icd.json on a machine without a GPU; the
#   figures then mean nothing), BUDGET=<seconds per bench> (default 160: the agreement check's 60 s and the
#   three benches fit in a 10-minute call).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$(mktemp -d /tmp/resona-device-out.XXXXXX)}
mkdir -p "$OUT"
ICD=${ICD:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
SIZE=${SIZE:-real}
BUDGET=${BUDGET:-160}
NODE=node
if [ -d .device ]; then
  # The packed Node, dependencies, build and Vulkan loader (bench/device/pack.sh), unpacked outside this tree
  # (whose node_modules may be a link to another checkout's) and run from there.
  P=$PWD/.device R=/tmp/resona-device
  rm -rf $R && mkdir -p $R/bin $R/root $R/tree
  xz -dc "$P/node.xz" > $R/bin/node && chmod +x $R/bin/node && NODE=$R/bin/node
  tar -C $R/tree -xJf "$P/modules.tar.xz" && tar -C $R/tree -xJf "$P/dist.tar.xz" || exit 2
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
    for f in "$P"/*.deb; do dpkg -x "$f" $R/root; done
    export LD_LIBRARY_PATH="$R/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  cd $R/tree
elif [ ! -d dist ] || [ ! -e node_modules ]; then
  echo "no .device/ pack and no dist/ + node_modules here: run bash bench/device/pack.sh first" >&2; exit 2
fi
[ -f "$ICD" ] || { echo "Vulkan driver file $ICD not found (set ICD=)" >&2; exit 2; }
# Only this driver, so WebGPU's adapter is the GPU (or the software one asked for), never another.
export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
{
  echo "== $(date -u +%FT%TZ) $(uname -m), $(nproc) cores; node $($NODE -v); ICD $ICD; SIZE $SIZE"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
} 2>&1 | tee "$OUT/env.txt"

if [ "$SIZE" = tiny ]; then
  VOC=(--tiny --blocks 0.1 --context 0,8 --runs 2)
  DIF=(--tiny --repeats 1 --grid 0.1,0.2)
  SD=(--tiny --blocks 0.25 --runs 1)
else
  VOC=(--blocks 0.1,0.2,0.5 --context 0,8 --runs 10)
  DIF=(--repeats 2 --grid 0.1,0.2,0.5,1)
  SD=(--blocks 0.25,0.5,1 --runs 2)
fi
status=0
run() { # name, args…: one bench, its log in $OUT, cut off at BUDGET seconds so the next still runs
  local name=$1; shift
  echo "== $name $*" | tee "$OUT/$name.log"
  timeout "$BUDGET" "$NODE" "dist/bench/$name.js" --providers webgpu,cpu "$@" 2>&1 | tee -a "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || { echo "== $name: exit $rc$([ "$rc" = 124 ] && echo " (over its ${BUDGET} s budget)")" | tee -a "$OUT/$name.log"; status=1; }
}
# First the agreement of each network with CPU on the GPU (seconds), then the timings.
AGR=(); [ "$SIZE" = tiny ] && AGR=(--tiny)
BUDGET_ALL=$BUDGET; BUDGET=60; run provider-agreement "${AGR[@]}"; BUDGET=$BUDGET_ALL
run vocoder "${VOC[@]}"
run diffusion "${DIF[@]}"
run sovits-diffusion "${SD[@]}"
echo "== logs in $OUT"
exit $status
