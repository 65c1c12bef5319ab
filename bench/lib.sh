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

# CPU pinning (taskset, from util-linux). A list is CPU numbers and ranges: "0", "2-3", "0,2".
cpus_of() { taskset -pc "$1" 2>/dev/null | sed 's/.*: //'; }  # cpus_of PID: the CPUs it may use
cpu_numbers() {  # cpu_numbers LIST: its CPUs, one per line ("0-2,5": 0 1 2 5); 1 if malformed
  local part
  local -a parts
  [[ $1 =~ ^[0-9]{1,4}(-[0-9]{1,4})?(,[0-9]{1,4}(-[0-9]{1,4})?){0,63}$ ]] || return 1
  IFS=, read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then
      ((10#${part%-*} <= 10#${part#*-})) || return 1
      seq "$((10#${part%-*}))" "$((10#${part#*-}))"
    else
      echo "$((10#$part))"
    fi
  done
}
# check_cpus NAME LIST: dies (exit 1) unless LIST is empty or every CPU in it is one this
# process may use (taskset alone would quietly drop the ones the machine lacks).
check_cpus() {
  [[ -z $2 ]] && return 0
  command -v taskset >/dev/null || { echo "$1: needs taskset (Debian package util-linux)" >&2; exit 1; }
  local allowed wanted
  allowed=$(cpus_of $$)
  if wanted=$(cpu_numbers "$2") &&
    [[ -z $(comm -23 <(sort -u <<<"$wanted") <(cpu_numbers "$allowed" | sort -u)) ]]; then
    return 0
  fi
  echo "$1: not a list of CPUs this process may use (got '$2'; allowed: $allowed)" >&2
  exit 1
}
# on_cpus LIST CMD...: exec CMD, on LIST's CPUs when LIST is not empty. Run it in the
# background (`on_cpus "$CPUS" prog args &`): the job's pid ($!) is then the program's.
on_cpus() {
  local cpus=$1
  shift
  if [[ -n $cpus ]]; then exec taskset -c "$cpus" "$@"; fi
  exec "$@"
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

# Where the store's transactions spent their time between two snapshots of Parley's
# /metrics (files): per histogram, the mean, the bucket bound that holds the 99th percentile
# and the one that holds the slowest, in ms. Prints one line: the times, a note that there
# were no commits, or a note that a snapshot is missing (/metrics did not answer).
#   curl -sf "$url/metrics" >"$tmp/m0"; …; curl -sf "$url/metrics" >"$tmp/m1"
#   store_times "$tmp/m0" "$tmp/m1"
store_times() {  # store_times BEFORE AFTER
  if [[ ! -s $1 || ! -s $2 ]]; then
    echo "store time per commit: no /metrics snapshot before or after"
    return
  fi
  awk '
    $1 ~ /^parley_store_(queue|statements|commit|wal_sync)_seconds_(bucket|sum|count)/ {
      v[(FILENAME == ARGV[1] ? 1 : 2), $1] = $2; names[$1] = 1
    }
    END {
      n = split("queue statements commit wal_sync", hist, " ")
      split("queued,statements,commit,WAL sync", label, ",")
      out = ""
      for (i = 1; i <= n; i++) {
        base = "parley_store_" hist[i] "_seconds"
        count = v[2, base "_count"] - v[1, base "_count"]
        if (count <= 0) continue
        mean = (v[2, base "_sum"] - v[1, base "_sum"]) / count
        # Buckets are cumulative; their bounds are in the label: name_bucket{le="0.001"}.
        nb = 0
        for (name in names) {
          if (index(name, base "_bucket{le=\"") != 1) continue
          le = substr(name, length(base "_bucket{le=\"") + 1); sub(/".*/, "", le)
          if (le == "+Inf") continue
          nb++; bound[nb] = le + 0; cum[nb] = v[2, name] - v[1, name]
        }
        # bounds in increasing order (insertion sort: a dozen buckets)
        for (a = 2; a <= nb; a++) for (b = a; b > 1 && bound[b - 1] > bound[b]; b--) {
          t = bound[b]; bound[b] = bound[b - 1]; bound[b - 1] = t
          t = cum[b]; cum[b] = cum[b - 1]; cum[b - 1] = t
        }
        p99 = top = sprintf("> %g", bound[nb] * 1000)
        for (b = nb; b >= 1; b--) {
          if (cum[b] >= 0.99 * count) p99 = sprintf("<= %g", bound[b] * 1000)
          if (cum[b] >= count) top = sprintf("<= %g", bound[b] * 1000)
        }
        out = out sprintf("%s %s %.2f (p99 %s, max %s)", (out == "" ? "" : ";"), label[i],
                          mean * 1000, p99, top)
        delete bound; delete cum
      }
      if (out != "") print "store time per commit, ms, mean (bucket bounds of p99 and max):" out
      else print "store time per commit: no commits"
    }' "$1" "$2"
}
