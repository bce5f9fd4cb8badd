# Shared helpers of the benchmark scripts (sourced).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
MAMORI="$CARGO_TARGET_DIR/release/mamori"
BENCH="$CARGO_TARGET_DIR/release/mamori-bench"
# Both sides run on the same pinned cores.
CORES="${CORES:-0-$(( $(nproc) - 1 ))}"

build() {
  (cd "$ROOT" && cargo build --release --locked -p mamori -p mamori-bench >&2)
}

need() { # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null || { echo "installing $2 for the peer side" >&2; apt-get install -y -qq "$2" >&2; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # wait_port PORT
  for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listens on port $1" >&2; return 1
}

cpu_seconds() { # cpu_seconds PID: user+system CPU time of a process and its threads
  # Fields counted after the command name, which may hold spaces ("nsd: server 1").
  sed 's/^.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{print ($12+$13)/hz}'
}

# tree_cpu_seconds PID: cpu_seconds of a process and all its descendants (nsd forks workers).
tree_cpu_seconds() {
  local total pid
  total="$(cpu_seconds "$1")"
  for pid in $(pgrep -P "$1"); do total="$(calc "$total + $(tree_cpu_seconds "$pid")")"; done
  echo "$total"
}

now() { date +%s.%N; }

# mamori_pid DIR: the pid of the mamori whose data directory is DIR/data, once it has written
# it (its listeners may answer a moment before the pid file is there).
mamori_pid() {
  local f="$1/data/run/mamori.pid"
  for _ in $(seq 1 200); do [ -s "$f" ] && { cat "$f"; return 0; }; sleep 0.05; done
  echo "mamori wrote no pid file at $f" >&2; return 1
}

calc() { python3 -c "print($1)"; }

# Writes a mamori.toml for a benchmark into DIR with the given ports.
mamori_config() { # mamori_config DIR API_PORT SYSLOG_PORT
  "$MAMORI" init --force --dir "$1" >/dev/null
  sed -i -e "s/127.0.0.1:8400/127.0.0.1:$2/" -e "s/127.0.0.1:5514/127.0.0.1:$3/" \
    -e '/^udp = /d' -e '/^tls = /d' -e 's/min_free_disk_mb = 256/min_free_disk_mb = 64/' "$1/mamori.toml"
}

# measure CMD...: runs CMD (stdout to $work/out, stderr to $work/err) and prints
# "WALL_SECONDS CPU_SECONDS MAX_RSS_KIB EXIT_CODE" of it and its children.
measure() {
  python3 -c '
import os, subprocess, sys, time
w = os.environ["work"]
start = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=open(w + "/out", "wb"), stderr=open(w + "/err", "wb"))
_, status, usage = os.wait4(p.pid, 0)
print("%.3f %.3f %d %d" % (time.monotonic() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status)))
' "$@"
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
