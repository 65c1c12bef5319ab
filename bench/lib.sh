# bench/lib.sh: helpers shared by the benchmark scripts (sourced, not run).
#
#   here=$(cd "$(dirname "$0")" && pwd)
#   source "$here/lib.sh"
# Callers set `tmp` (their temp dir) before children_ticks_to.

is_int() { [[ $1 =~ ^[0-9]+$ ]] && (($2 <= $1 && $1 <= $3)); }  # is_int VALUE MIN MAX

stop_pid() {  # stop_pid PID SIGNAL: signal, wait up to 10 s, then SIGKILL
  local pid=$1 sig=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

thread_ticks() {  # thread_ticks PID: "<thread name> <utime+stime>" per thread, summed by name
  local t stat name
  local -a f
  for t in /proc/"$1"/task/*; do
    read -r name <"$t/comm" || continue
    read -r stat <"$t/stat" || continue
    read -r -a f <<<"${stat##*) }"
    echo "$name $((f[11] + f[12]))"
  done | awk '{ sum[$1] += $2 } END { for (n in sum) print n, sum[n] }' | sort
}

# CPU time the machine's processes and interrupts used (user, nice, system, irq, softirq).
machine_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# CPU time the hypervisor gave to others while this VM wanted it (steal): not a process of
# this machine, but a core's worth of it slows every thread here as much as a busy process.
steal_ticks() { awk '/^cpu /{ print $9 }' /proc/stat; }

# CPU of the shell's waited-for children (the load generator), from the `times` builtin; it
# must run in the benchmark's own shell, not in a $(…) subshell, whose children are not ours.
children_ticks_to() {  # children_ticks_to VAR
  times >"$tmp/times"
  printf -v "$1" '%s' "$(awk -v hz="$(getconf CLK_TCK)" 'NR == 2 {
    split($1, u, /[ms]/); split($2, s, /[ms]/)
    printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz }' "$tmp/times")"
}
