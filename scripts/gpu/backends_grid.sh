#!/usr/bin/env bash
# Every backend of this build that runs on $DEVICE, side by side in one run: MODELS x BATCHES x
# PRECISIONS through one `optic bench` (so every row has the same reference and machine), then the
# backends that have CUDA graphs (option cuda_graph) again with them on, then `optic report`.
# libtorch runs channels-last; IREE needs its modules folder (IREE_MODULES, scripts/gpu/iree_cuda.sh
# SETUP_ONLY=1 builds the backend); a backend the build lacks is named in the log and left out.
#   scripts/gpu/backends_grid.sh                          on the GPU machine, after run.sh's build/export
#   DEVICE=cpu OPTIC=build/optic MODELS=tiny_cnn BATCHES=1 PRECISIONS=fp32 scripts/gpu/backends_grid.sh
#                                                          the dry run on a CPU machine
# Writes $OUT/grid.jsonl, $OUT/grid_graph.jsonl, $OUT/grid.log, $OUT/report.md and report.html.
# Exit status: the number of failed bench commands.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OPTIC=${OPTIC:-$ROOT/build-gpu/optic}
OUT=${OUT:-$ROOT/out/grid}
DEVICE=${DEVICE:-cuda}
MODELS=${MODELS:-resnet50,efficientnet_b0}
BATCHES=${BATCHES:-1,256}
PRECISIONS=${PRECISIONS:-fp16}
DURATION_S=${DURATION_S:-1}
CELL_TIMEOUT=${CELL_TIMEOUT:-300}
IREE_MODULES=${IREE_MODULES:-}
mkdir -p "$OUT"
LOG=$OUT/grid.log
: >"$LOG"
say() { echo "backends_grid: $*" | tee -a "$LOG" >&2; }
[ -x "$OPTIC" ] || { say "$OPTIC is not an optic build (set OPTIC)"; exit 1; }

# `optic backends` prints a name line, then indented "devices:" and "options:" lines.
listing=$("$OPTIC" backends 2>>"$LOG")
on_device=() with_graph=()
name="" devices=""
while IFS= read -r line; do
  case $line in
    "  devices:"*) devices=" ${line#*:} " ;;
    "  options:"*)
      options=" ${line#*:} "
      [ "$name" = null ] && continue
      if [[ $devices != *" $DEVICE "* ]]; then say "$name: no $DEVICE device in this build, left out"; continue; fi
      if [ "$name" = iree ] && [ -z "$IREE_MODULES" ]; then say "iree: no IREE_MODULES folder given, left out"; continue; fi
      on_device+=("$name")
      [ "$DEVICE" = cuda ] && [[ $options == *" cuda_graph "* ]] && with_graph+=("$name") ;;
    " "*) ;;
    *) name=${line%% *} devices="" ;;
  esac
done <<<"$listing"
[ ${#on_device[@]} -gt 0 ] || { say "no backend of this build runs on $DEVICE"; exit 1; }
say "backends on $DEVICE: ${on_device[*]}; with CUDA graphs: ${with_graph[*]:-none}"

options_for() {  # options_for BACKEND...: the per-backend options of this grid
  local b
  for b in "$@"; do
    case $b in
      torch) echo "--backend-option torch:channels_last=true" ;;
      iree) echo "--backend-option iree:modules=$IREE_MODULES" ;;
    esac
  done
}
join() { local IFS=,; echo "$*"; }
failed=0
run_bench() {  # run_bench NAME BACKENDS EXTRA...
  local name=$1 backends=$2; shift 2
  rm -f "$OUT/$name.jsonl"
  say "$name: $backends x $MODELS x batch $BATCHES x $PRECISIONS on $DEVICE"
  # shellcheck disable=SC2046
  "$OPTIC" bench --models "$MODELS" --backends "$backends" --device "$DEVICE" --precision "$PRECISIONS" \
    --batch "$BATCHES" --scenario offline --duration-s "$DURATION_S" --timeout-s "$CELL_TIMEOUT" \
    --reference-device "$DEVICE" $(options_for ${backends//,/ }) "$@" --out "$OUT/$name.jsonl" \
    >>"$LOG" 2>&1 || { failed=$((failed + 1)); say "$name: optic bench exited $?"; }
}
run_bench grid "$(join "${on_device[@]}")"
if [ ${#with_graph[@]} -gt 0 ]; then
  graph_opts=()
  for b in "${with_graph[@]}"; do graph_opts+=(--backend-option "$b:cuda_graph=true"); done
  run_bench grid_graph "$(join "${with_graph[@]}")" "${graph_opts[@]}"
fi
files=("$OUT"/grid*.jsonl)
"$OPTIC" report "${files[@]}" --markdown "$OUT/report.md" -o "$OUT/report.html" >>"$LOG" 2>&1 ||
  { failed=$((failed + 1)); say "optic report failed"; }
tail -n 40 "$LOG"
exit $failed
