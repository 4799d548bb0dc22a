#!/usr/bin/env bash
# Background jobs that outlive one device call (a call may run 10 minutes; a warm machine is kept
# for 30). A job runs in its own process session, so it survives the call that started it.
#   scripts/gpu/bg.sh start NAME CMD...   start CMD (log: /root/bg/NAME.log, exit code: NAME.rc)
#   scripts/gpu/bg.sh wait SECONDS NAME... wait until every NAME has finished or SECONDS pass;
#                                          prints each log's tail; exit 0 when all finished
#   scripts/gpu/bg.sh kill NAME           stop NAME and its children
set -uo pipefail
DIR=${BG_DIR:-/root/bg}
mkdir -p "$DIR"
case "${1:-}" in
  start)
    name=$2; shift 2
    rm -f "$DIR/$name.rc"
    setsid bash -c '"$@"; echo $? >"'"$DIR/$name"'.rc"' bg "$@" >"$DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$DIR/$name.pid"
    echo "bg: started $name (pid $!)";;
  wait)
    secs=$2; shift 2
    end=$((SECONDS + secs))
    while :; do
      all=1
      for n in "$@"; do [ -f "$DIR/$n.rc" ] || all=0; done
      [ $all = 1 ] || [ $SECONDS -ge $end ] && break
      sleep 5
    done
    for n in "$@"; do
      echo "== $n: $([ -f "$DIR/$n.rc" ] && echo "finished rc=$(cat "$DIR/$n.rc")" || echo running)"
      tail -n "${TAIL:-15}" "$DIR/$n.log"
    done
    [ $all = 1 ];;
  kill)
    pid=$(cat "$DIR/$2.pid") && kill -- -"$pid";;
  *) echo "usage: bg.sh start NAME CMD... | wait SECONDS NAME... | kill NAME" >&2; exit 2;;
esac
