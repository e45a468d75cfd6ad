#!/usr/bin/env bash
# berth's benchmark harness: throughput/latency, memory, routing scale and TLS of berth against a
# direct backend, nginx, HAProxy, Caddy and (given by path) Traefik, all on 127.0.0.1, every figure
# the median of several runs, every comparison made inside this one run; and, on the real Docker
# Engine, berth's discovery of started and stopped containers and a compose service scaled under
# load. See docs/benchmarks.md.
#
#   bench/run.sh [--quick] [--sections throughput,memory,routing,tls,discovery,scaling] [--runs N]
#                [--duration S] [--proxies berth,nginx,haproxy,caddy] [--out FILE] [--no-pin]
#                [--no-perf] [--keep]
#
# Environment: BERTH_BIN (default build/release/src/app/berth), WHOAMI_BIN (default
# build/release/tools/whoami/berth-whoami; the Docker sections), TRAEFIK_BIN (optional),
# BENCH_PORT_BASE (default 24000), BENCH_PROXY_CPUS / BENCH_LOAD_CPUS (default 0 / 1),
# BENCH_TLS_KEY (ec: P-256, the default, or rsa: RSA 2048; the tls section's certificate),
# BENCH_DRAIN_DELAY (default 1s: how long the Docker sections' app serves on after SIGTERM).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

mode=full
sections=""
runs=""
duration=""
out=""
pin=1
profile=1
keep=0
proxies=berth,nginx,haproxy,caddy
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --sections) sections=$2; shift ;;
    --sections=*) sections=${1#*=} ;;
    --runs) runs=$2; shift ;;
    --runs=*) runs=${1#*=} ;;
    --duration) duration=$2; shift ;;
    --duration=*) duration=${1#*=} ;;
    --out) out=$2; shift ;;
    --out=*) out=${1#*=} ;;
    --proxies) proxies=$2; shift ;;
    --proxies=*) proxies=${1#*=} ;;
    --no-pin) pin=0 ;;
    --no-perf) profile=0 ;;
    --keep) keep=1 ;;
    -h|--help) usage 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage 2 >&2 ;;
  esac
  shift
done

# Sizes of a run. Quick mode keeps every figure a median of 3 runs but measures fewer cells.
if [ "$mode" = quick ]; then
  : "${runs:=3}" "${duration:=2}"
  conns_list=(64)
  bodies=(tiny)
  route_counts=(1 10000)
  mem_conns=2000
  mem_ws=200
  budget=180
  tls_budget=150
  starts=10
  removals=10
  scale_cycles=1
  discovery_budget=120
  scaling_budget=90
else
  : "${runs:=3}" "${duration:=5}"
  conns_list=(64 256)
  bodies=(tiny 16k)
  route_counts=(1 100 10000)
  mem_conns=10000
  mem_ws=1000
  budget=900
  tls_budget=360
  starts=50
  removals=50
  scale_cycles=3
  discovery_budget=360
  scaling_budget=180
fi
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 3 ]; then
  echo "bench: --runs must be a number of at least 3 (every figure is a median)" >&2; exit 2
fi
if ! [[ "$duration" =~ ^[0-9]+$ ]] || [ "$duration" -lt 1 ]; then
  echo "bench: --duration must be a whole number of seconds" >&2; exit 2
fi
berth_bin=${BERTH_BIN:-$root/build/release/src/app/berth}
whoami_bin=${WHOAMI_BIN:-$root/build/release/tools/whoami/berth-whoami}
# docker_problem: why the Docker sections cannot run here, or nothing.
docker_problem() {
  if ! command -v docker >/dev/null 2>&1; then echo "no docker command"
  elif ! docker info >/dev/null 2>&1; then echo "the Docker daemon does not answer (docker info)"
  elif ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1
  then echo "neither docker compose nor docker-compose"
  elif [ ! -x "$berth_bin" ]; then echo "no berth at $berth_bin (BERTH_BIN)"
  elif [ ! -x "$whoami_bin" ]; then echo "no berth-whoami at $whoami_bin (WHOAMI_BIN)"
  fi
}
# The TLS and Docker sections are not in the quick default: they would make the quick run outgrow
# its 3 minutes. The full run takes the Docker ones when Docker is usable here.
docker_skipped=""
if [ -z "$sections" ]; then
  sections=throughput,routing,memory
  if [ "$mode" = full ]; then
    docker_skipped=$(docker_problem)
    if [ -z "$docker_skipped" ]; then sections=$sections,discovery,scaling; fi
  fi
fi
has_section() { [[ ",$sections," == *",$1,"* ]]; }
for s in ${sections//,/ }; do
  case "$s" in
    throughput|routing|memory|tls|discovery|scaling) ;;
    *) echo "bench: unknown section '$s'" >&2; exit 2 ;;
  esac
done
if has_section tls; then budget=$((budget + tls_budget)); fi
if has_section discovery; then budget=$((budget + discovery_budget)); fi
if has_section scaling; then budget=$((budget + scaling_budget)); fi
with_docker=0
if has_section discovery || has_section scaling; then
  with_docker=1
  problem=$(docker_problem)
  [ -z "$problem" ] || { echo "bench: the Docker sections need Docker: $problem" >&2; exit 1; }
fi
drain_delay=${BENCH_DRAIN_DELAY:-1s}
if ! [[ "$drain_delay" =~ ^[0-9]+(ms|s)$ ]]; then
  echo "bench: BENCH_DRAIN_DELAY must be like 1s or 500ms, not '$drain_delay'" >&2; exit 2
fi
tls_key=${BENCH_TLS_KEY:-ec}
case "$tls_key" in
  ec|rsa) ;;
  *) echo "bench: BENCH_TLS_KEY must be ec or rsa, not '$tls_key'" >&2; exit 2 ;;
esac

traefik_bin=${TRAEFIK_BIN:-}
port=${BENCH_PORT_BASE:-24000}
proxy_cpus=${BENCH_PROXY_CPUS:-0}
load_cpus=${BENCH_LOAD_CPUS:-1}
if [ "$(nproc)" -lt 2 ]; then pin=0; fi
cpu_count() { local n=0 part; for part in ${1//,/ }; do
  if [[ "$part" == *-* ]]; then n=$((n + ${part#*-} - ${part%-*} + 1)); else n=$((n + 1)); fi
done; echo "$n"; }
if [ "$pin" = 1 ]; then
  proxy_threads=$(cpu_count "$proxy_cpus")
  load_threads=$(cpu_count "$load_cpus")
else
  proxy_threads=$(nproc)
  load_threads=$(nproc)
fi

missing=()
tools=(wrk nginx haproxy caddy python3 curl taskset setsid pgrep)
if has_section tls; then tools+=(openssl ab); fi
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: missing ${missing[*]}: run bench/install-bench-deps.sh" >&2; exit 1
fi
proxy_kinds=()
for kind in ${proxies//,/ }; do
  case "$kind" in
    berth|nginx|haproxy|caddy) proxy_kinds+=("$kind") ;;
    *) echo "bench: unknown proxy '$kind' (Traefik is added by TRAEFIK_BIN)" >&2; exit 2 ;;
  esac
done
if [ -n "$traefik_bin" ]; then proxy_kinds+=(traefik); fi
with_berth=0
if [[ ",$proxies," == *,berth,* ]]; then with_berth=1; fi
if [ "$with_berth" = 1 ] && [ ! -x "$berth_bin" ]; then
  echo "bench: no berth at $berth_bin: build it (cmake --preset release &&" \
    "cmake --build --preset release --target berth) or set BERTH_BIN" >&2
  exit 1
fi
if [ -n "$traefik_bin" ] && [ ! -x "$traefik_bin" ]; then
  echo "bench: TRAEFIK_BIN=$traefik_bin is not an executable" >&2; exit 1
fi
use_perf=$profile
if ! command -v perf >/dev/null 2>&1; then use_perf=0; fi
use_strace=$profile
if ! command -v strace >/dev/null 2>&1; then use_strace=0; fi

# 10,000 client connections need as many descriptors in the client and in each proxy, and HAProxy
# wants two per connection of its maxconn; root may raise the hard limit, others take what it is.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((mem_conns + 1000)) ]; then
  echo "bench: ulimit -n is $(ulimit -n); $((mem_conns + 1000)) needed for $mem_conns connections" >&2
  exit 1
fi

fd_limit=$(ulimit -n)
if [ "$fd_limit" = unlimited ] || [ "$fd_limit" -gt 65536 ]; then fd_limit=65536; fi
# nginx counts client and upstream connections against worker_connections and closes idle
# keep-alive ones when it runs short; HAProxy reserves two descriptors per maxconn but an idle
# client connection holds one, so it may go past half the limit (no strict-limits).
haproxy_maxconn=$((fd_limit / 2 - 100))
if [ "$haproxy_maxconn" -lt $((mem_conns + 500)) ]; then haproxy_maxconn=$((mem_conns + 500)); fi
if [ -z "$out" ]; then
  out=$here/results/$(date -u +%Y-%m-%d-%H%M)
  if [ "$mode" = quick ]; then out=$out-quick; fi
  out=$out.md
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-bench.XXXXXX")
mkdir -p "$work/log" "$work/conf" "$work/www"
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_seconds=$SECONDS

# --- processes: every server runs in a session (process group) of its own, killed on exit --------
groups=()
helpers=()  # short-lived helpers (perf, strace, the connection holder), each bounded in time
watchdog=""
stop_group() {
  local pg=$1 i
  kill -TERM -- "-$pg" 2>/dev/null || return 0
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    kill -0 -- "-$pg" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pg" 2>/dev/null || true
}
# Everything the Docker sections start carries this label (a value of its own for each run, so
# that runs side by side keep apart) and goes in docker_cleanup.
bench_id=berth-bench-$$
bench_label=org.berth.bench=$bench_id
compose=()
compose_file=""
docker_cleanup() {
  local i ids=() networks=()
  if [ -n "$compose_file" ] && [ -f "$compose_file" ]; then
    "${compose[@]}" -p "$bench_id" -f "$compose_file" down --remove-orphans --timeout 1 \
      >>"$work/log/compose-down.log" 2>&1 || true
  fi
  # A docker command that Ctrl-C cut short may still have its container made by the daemon
  # just after the first look: look again until nothing is left.
  for i in 1 2 3; do
    mapfile -t ids < <(docker ps -aq --filter "label=$bench_label" 2>/dev/null || true)
    mapfile -t networks < <(docker network ls -q --filter "label=$bench_label" 2>/dev/null || true)
    if [ ${#ids[@]} -eq 0 ] && [ ${#networks[@]} -eq 0 ]; then return 0; fi
    if [ ${#ids[@]} -gt 0 ]; then docker rm -f "${ids[@]}" >/dev/null 2>&1 || true; fi
    if [ ${#networks[@]} -gt 0 ]; then docker network rm "${networks[@]}" >/dev/null 2>&1 || true; fi
    sleep 1
  done
}
reported=0
cleanup() {
  local status=$? pg
  trap - EXIT INT TERM
  if [ -n "$watchdog" ]; then kill -- "-$watchdog" 2>/dev/null || true; fi
  for pg in "${helpers[@]}"; do kill -TERM "$pg" 2>/dev/null || true; done
  for pg in "${groups[@]}"; do stop_group "$pg"; done
  wait 2>/dev/null || true
  if [ "$with_docker" = 1 ]; then docker_cleanup; fi
  # A run stopped early (time budget, Ctrl-C, a failure) still reports what it measured.
  if [ "$reported" = 0 ] && [ -s "$work/results.tsv" ]; then
    printf 'incomplete\tstopped after %s s with status %s\n' "$((SECONDS - start_seconds))" \
      "$status" >>"$work/meta.tsv"
    python3 "$here/report.py" --work "$work" --out "$out" && echo "bench: partial report: $out" >&2
  fi
  if [ "$keep" = 1 ] || [ "$status" -ne 0 ]; then
    echo "bench: work files kept in $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM
setsid bash -c 'sleep "$1"; echo "bench: over the time budget of $1 s, stopping" >&2
  kill -TERM "$2"' watchdog "$budget" $$ &
watchdog=$!

# start NAME CPUS COMMAND...: runs COMMAND in a new session pinned to CPUS; sets $pid.
start() {
  local name=$1 cpus=$2
  shift 2
  if [ "$pin" = 1 ]; then
    setsid taskset -c "$cpus" "$@" >"$work/log/$name.log" 2>&1 </dev/null &
  else
    setsid "$@" >"$work/log/$name.log" 2>&1 </dev/null &
  fi
  pid=$!
  groups+=("$pid")
  printf '%s\t%s\n' "$name" "$(quoted "$@")" >>"$work/commands.tsv"
}
stop() {
  local pg=$1 kept=() g
  stop_group "$pg"
  wait "$pg" 2>/dev/null || true
  for g in "${groups[@]}"; do [ "$g" = "$pg" ] || kept+=("$g"); done
  groups=("${kept[@]}")
}
# next_port VAR: sets VAR to the next port from BENCH_PORT_BASE up that nothing listens on.
b1="" b2="" w1="" w2="" listen=""
next_port() {
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  printf -v "$1" '%s' "$port"
  port=$((port + 1))
}
die() { echo "bench: $*" >&2; exit 1; }
# quoted ARG...: prints the command line with the arguments that hold spaces in single quotes.
quoted() {
  local arg line=""
  for arg in "$@"; do
    if [[ "$arg" == *" "* ]]; then arg="'$arg'"; fi
    line="$line${line:+ }$arg"
  done
  printf '%s\n' "$line"
}
note() { echo "$*" >>"$work/notes.txt"; echo "bench: $*" >&2; }
log() { printf '[%3ds] %s\n' "$((SECONDS - start_seconds))" "$*" >&2; }

# curl's options for https:// URLs: trust the tls section's certificate once it exists.
curl_tls=()
# wait_http NAME PID URL [HOST]: until URL answers 200 (the process must stay alive), 20 s at most.
wait_http() {
  local name=$1 pg=$2 url=$3 host=${4:-} i code
  for i in $(seq 1 200); do
    if ! kill -0 "$pg" 2>/dev/null; then
      echo "bench: $name exited at start-up; its output:" >&2
      tail -n 20 "$work/log/$name.log" >&2
      return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${curl_tls[@]}" \
      ${host:+-H "Host: $host"} "$url" || true)
    if [ "$code" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "bench: $name did not answer 200 at $url within 20 s (last: $code); its output:" >&2
  tail -n 20 "$work/log/$name.log" >&2
  return 1
}

# --- accounting from /proc ------------------------------------------------------------------------
group_pids() { pgrep -g "$1" || true; }
# CPU time (clock ticks, user + system, all threads) of every process in a group.
group_ticks() {
  local total=0 p line fields
  for p in $(group_pids "$1"); do
    line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a fields <<<"${line##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}
# "RSS PSS" in kB summed over a group (PSS splits pages shared between nginx's processes).
group_mem() {
  local rss=0 pss=0 p v
  for p in $(group_pids "$1"); do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    rss=$((rss + ${v:-0}))
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
    pss=$((pss + ${v:-0}))
  done
  echo "$rss $pss"
}
clk_tck=$(getconf CLK_TCK)

# --- configurations -------------------------------------------------------------------------------
printf 'ok\n' >"$work/www/tiny"
head -c 16384 /dev/zero | tr '\0' 'x' >"$work/www/16k"

# What every nginx of the harness shares, up to inside its http block: workers ($1), pid name ($2).
nginx_preamble() {
  cat <<EOF
worker_processes $1;
daemon off;
user root;
pid $work/$2.pid;
error_log stderr error;
worker_rlimit_nofile $fd_limit;
events { worker_connections $((fd_limit - 500)); }
http {
  access_log off;
  client_body_temp_path $work/tmp-cb; proxy_temp_path $work/tmp-p; fastcgi_temp_path $work/tmp-f;
  uwsgi_temp_path $work/tmp-u; scgi_temp_path $work/tmp-s;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
EOF
}
# The throughput backends: one nginx worker serving static files on two ports, each naming itself.
conf_backend() {
  nginx_preamble 1 backend-nginx
  cat <<EOF
  default_type application/octet-stream;
  server { listen 127.0.0.1:$1 backlog=4096; root $work/www; add_header X-Backend b1; }
  server { listen 127.0.0.1:$2 backlog=4096; root $work/www; add_header X-Backend b2; }
}
EOF
}
# nginx as the proxy: round robin, upstream keep-alive (needs HTTP/1.1 and an empty Connection
# header, or nginx closes every upstream connection), WebSocket upgrades passed through. Given a
# TLS_DIR, it terminates TLS 1.3 only (nginx 1.22 would offer 1.0 to 1.2 alone by default) with the
# certificate there, and keeps its default session tickets.
conf_nginx() {
  local listen=$1 b1=$2 b2=$3 name=$4 tls_dir=${5:-} tls_lines=""
  if [ -n "$tls_dir" ]; then
    tls_lines="ssl_certificate $tls_dir/cert.pem; ssl_certificate_key $tls_dir/key.pem;
    ssl_protocols TLSv1.3;"
  fi
  nginx_preamble "$proxy_threads" "$name"
  cat <<EOF
  map \$http_upgrade \$connection_upgrade { default ""; websocket upgrade; }
  upstream backends {
    server 127.0.0.1:$b1;
    server 127.0.0.1:$b2;
    keepalive 256;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$listen${tls_dir:+ ssl} backlog=4096;
    $tls_lines
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_read_timeout 300s;
    }
  }
}
EOF
}
# HAProxy: round robin, server-side connection reuse (its default, "http-reuse safe"), optional
# insert-mode sticky cookie; given a TLS_DIR, TLS 1.3 with the certificate there (key appended).
conf_haproxy() {
  local listen=$1 b1=$2 b2=$3 sticky=$4 tls_dir=${5:-}
  cat <<EOF
global
  nbthread $proxy_threads
  maxconn $haproxy_maxconn
  no strict-limits
defaults
  mode http
  option forwardfor
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  timeout tunnel 300s
frontend web
  bind 127.0.0.1:$listen${tls_dir:+ ssl crt $tls_dir/bundle.pem ssl-min-ver TLSv1.3}
  default_backend backends
backend backends
  balance roundrobin
EOF
  if [ "$sticky" = 1 ]; then
    echo "  cookie SRV insert indirect nocache"
    echo "  server b1 127.0.0.1:$b1 cookie b1"
    echo "  server b2 127.0.0.1:$b2 cookie b2"
  else
    echo "  server b1 127.0.0.1:$b1"
    echo "  server b2 127.0.0.1:$b2"
  fi
}
# Caddy: reverse_proxy with two upstreams, round robin, keep-alive pool as large as nginx's.
conf_caddy() {
  local listen=$1 b1=$2 b2=$3
  cat <<EOF
{
	admin off
	auto_https off
	servers {
		protocols h1
	}
}
http://127.0.0.1:$listen {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:$b1 127.0.0.1:$b2 {
		lb_policy round_robin
		transport http {
			keepalive 300s
			keepalive_idle_conns 512
			keepalive_idle_conns_per_host 256
		}
	}
}
EOF
}
# berth and Traefik read the same Traefik dynamic configuration. Given a TLS_DIR, the router takes
# TLS only, with the certificate there as the only and the default one (wrk sends 127.0.0.1 as its
# server name) and TLS 1.3 as the least version.
conf_dynamic() {
  local b1=$1 b2=$2 sticky=$3 tls_dir=${4:-}
  cat <<EOF
http:
  routers:
    bench:
      rule: "PathPrefix(\`/\`)"
      service: bench
      entryPoints: [web]
EOF
  if [ -n "$tls_dir" ]; then echo "      tls: {}"; fi
  cat <<EOF
  services:
    bench:
      loadBalancer:
EOF
  if [ "$sticky" = 1 ]; then
    printf '        sticky:\n          cookie:\n            name: bench_sticky\n'
  fi
  cat <<EOF
        servers:
          - url: "http://127.0.0.1:$b1"
          - url: "http://127.0.0.1:$b2"
EOF
  if [ -n "$tls_dir" ]; then
    cat <<EOF
tls:
  certificates:
    - certFile: $tls_dir/cert.pem
      keyFile: $tls_dir/key.pem
  stores:
    default:
      defaultCertificate:
        certFile: $tls_dir/cert.pem
        keyFile: $tls_dir/key.pem
  options:
    default:
      minVersion: VersionTLS13
EOF
  fi
}

# start_proxy KIND NAME LISTEN B1 B2 STICKY [DYNAMIC_FILE [TLS_DIR]]: starts one proxy instance
# (serving TLS with the certificate in TLS_DIR when given); sets $pid.
start_proxy() {
  local kind=$1 name=$2 listen=$3 b1=$4 b2=$5 sticky=$6 dynamic=${7:-} tls_dir=${8:-}
  local conf=$work/conf/$name
  case "$kind" in
    nginx)
      conf_nginx "$listen" "$b1" "$b2" "$name" "$tls_dir" >"$conf.conf"
      start "$name" "$proxy_cpus" nginx -e stderr -p "$work" -c "$conf.conf"
      ;;
    haproxy)
      conf_haproxy "$listen" "$b1" "$b2" "$sticky" "$tls_dir" >"$conf.cfg"
      start "$name" "$proxy_cpus" haproxy -db -f "$conf.cfg"
      ;;
    caddy)
      [ -z "$tls_dir" ] || die "the harness has no TLS configuration for Caddy"
      conf_caddy "$listen" "$b1" "$b2" >"$conf.Caddyfile"
      start "$name" "$proxy_cpus" env GOMAXPROCS="$proxy_threads" XDG_DATA_HOME="$work/caddy" \
        XDG_CONFIG_HOME="$work/caddy" HOME="$work" \
        caddy run --adapter caddyfile --config "$conf.Caddyfile"
      ;;
    berth|traefik)
      if [ -z "$dynamic" ]; then
        dynamic=$conf.yml
        conf_dynamic "$b1" "$b2" "$sticky" "$tls_dir" >"$dynamic"
      fi
      local flags=(--entrypoints.web.address="127.0.0.1:$listen" \
        --providers.file.filename="$dynamic" --log.level=ERROR)
      if [ "$kind" = berth ]; then
        start "$name" "$proxy_cpus" "$berth_bin" "${flags[@]}" --workers="$proxy_threads"
      else
        start "$name" "$proxy_cpus" env GOMAXPROCS="$proxy_threads" "$traefik_bin" "${flags[@]}" \
          --global.checkNewVersion=false --global.sendAnonymousUsage=false
      fi
      ;;
    *) die "unknown proxy kind $kind" ;;
  esac
}

# --- load -----------------------------------------------------------------------------------------
# measure TSV_PREFIX PG URL CONNS [HEADER]: one wrk run; appends "prefix rps p50 p99 errors cpu% µs".
measure() {
  local prefix=$1 pg=$2 url=$3 conns=$4 header=${5:-}
  local cmd=(wrk -t"$load_threads" -c"$conns" -d"${duration}s" --latency)
  if [ -n "$header" ]; then cmd+=(-H "$header"); fi
  load_row "$prefix" "$pg" "${cmd[@]}" "$url"
}
# measure_new TSV_PREFIX PG URL CONNS: one ab run, one request per connection. ab never offers a
# TLS session (wrk does, so it resumes), so over https every connection makes a full handshake.
measure_new() {
  load_row "$1" "$2" ab -q -r -c "$4" -t "$duration" "$3"
}
# load_row TSV_PREFIX PG COMMAND...: runs one wrk or ab command (pinned to the load CPUs) and
# prints the row of measure.
load_row() {
  local prefix=$1 pg=$2 file ticks0=0 ticks1=0
  shift 2
  local cmd=("$@")
  file=$(mktemp "$work/log/load.XXXXXX")
  if [ "$pin" = 1 ]; then cmd=(taskset -c "$load_cpus" "${cmd[@]}"); fi
  if [ "$pg" != - ]; then ticks0=$(group_ticks "$pg"); fi
  timeout $((duration + 20)) "${cmd[@]}" >"$file" 2>&1 || true
  if [ "$pg" != - ]; then ticks1=$(group_ticks "$pg"); fi
  quoted "${cmd[@]}" >>"$work/wrk-commands.txt"
  awk -v prefix="$prefix" -v ticks=$((ticks1 - ticks0)) -v hz="$clk_tck" -v dur="$duration" \
    -v pg="$pg" '
    function ms(v) {
      if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /m$/) return v * 60000
      if (v ~ /s$/) return v * 1000; return v + 0
    }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { errors += $5 }
    /^Requests per second:/ { rps = $4 }
    /^(Failed requests|Non-2xx responses):/ { errors += $3 }
    END {
      if (rps == "") { rps = 0; p50 = 0; p99 = 0; errors = -1 }
      cpu = "-"; us = "-"
      if (pg != "-") {
        cpu = sprintf("%.0f", 100 * ticks / hz / dur)
        if (rps > 0) us = sprintf("%.1f", 1e6 * ticks / hz / (rps * dur))
      }
      printf "%s\t%.0f\t%.3f\t%.3f\t%d\t%s\t%s\n", prefix, rps, p50, p99, errors + 0, cpu, us
    }' "$file"
}
warm() { # URL [HEADER]
  local cmd=(wrk -t"$load_threads" -c64 -d1s)
  if [ -n "${2:-}" ]; then cmd+=(-H "$2"); fi
  if [ "$pin" = 1 ]; then cmd=(taskset -c "$load_cpus" "${cmd[@]}"); fi
  timeout 20 "${cmd[@]}" "$1" >/dev/null 2>&1 || true
}

# probe URL [HEADER]: "status backend bytes set-cookie" of one request.
probe() {
  local headers code backend cookie size
  headers=$(mktemp "$work/log/probe.XXXXXX")
  read -r code size < <(curl -s -o /dev/null -D "$headers" --max-time 5 "${curl_tls[@]}" \
    ${2:+-H "$2"} -w '%{http_code} %{size_download}\n' "$1" || echo "000 0")
  backend=$(awk -F': ' 'tolower($1) == "x-backend" {gsub(/\r/, "", $2); print $2}' "$headers")
  cookie=$(awk -F': ' 'tolower($1) == "set-cookie" {split($2, a, ";"); print a[1]}' "$headers" |
    head -n 1)
  echo "$code ${backend:--} $size ${cookie:--}"
}

# check_target NAME URL STICKY: the target answers 200 with the full body from both backends in
# turn (or, sticky, always the same one when the cookie is sent). Prints the cookie header to send.
check_target() {
  local name=$1 base=$2 sticky=$3 code backend size cookie seen="" i header=""
  for i in 1 2 3 4; do
    read -r code backend size cookie < <(probe "$base/tiny")
    [ "$code" = 200 ] || { note "$name: status $code from $base/tiny"; return 1; }
    seen="$seen $backend"
  done
  read -r code backend size cookie < <(probe "$base/16k")
  if [ "$code" != 200 ] || [ "$size" != 16384 ]; then
    note "$name: $base/16k gave status $code and $size bytes, want 200 and 16384"; return 1
  fi
  if [[ "$name" != direct ]] && { [[ "$seen" != *b1* ]] || [[ "$seen" != *b2* ]]; }; then
    note "$name: not round robin over both backends (saw$seen)"; return 1
  fi
  if [ "$sticky" = 1 ]; then
    [ "$cookie" != - ] || { note "$name: sticky but no Set-Cookie"; return 1; }
    header="Cookie: $cookie"
    local first=""
    for i in 1 2 3 4; do
      read -r code backend size cookie < <(probe "$base/tiny" "$header")
      first=${first:-$backend}
      [ "$backend" = "$first" ] || { note "$name: sticky cookie not honoured"; return 1; }
    done
  fi
  echo "$header"
}

# tls_check NAME PORT: the proxy at PORT serves the harness's certificate over TLS 1.3 and answers
# 200; records the cipher and group it chose, whether it refuses TLS 1.2 and whether a second
# connection that offers the first one's session resumes it.
tls_request() { printf 'GET /tiny HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'; }
tls_check() {
  local name=$1 listen=$2 first=$work/log/tls-$1-first.txt second=$work/log/tls-$1-second.txt
  local session=$work/tls/$1.session protocol="" cipher="" group served resumed=no refuses=yes
  # -ign_eof: read on until the server closes, so the session tickets sent after the handshake
  # arrive.
  tls_request | timeout 10 openssl s_client -connect "127.0.0.1:$listen" -ign_eof \
    -sess_out "$session" >"$first" 2>&1 || true
  read -r protocol cipher < <(sed -nE 's/^(New|Reused), (\S+), Cipher is (\S+).*/\2 \3/p' \
    "$first" | head -n 1) || true
  group=$(sed -nE 's/^Server Temp Key: ([^,]+).*/\1/p' "$first" | head -n 1)
  served=$(openssl x509 -noout -fingerprint -sha256 <"$first" 2>/dev/null || true)
  if [ "$protocol" != TLSv1.3 ] || ! grep -q '^HTTP/1\.[01] 200' "$first"; then
    note "$name: no TLS 1.3 with a 200 answer (got '${protocol:-nothing}'; see $first)"; return 1
  fi
  if [ "$served" != "$tls_fingerprint" ]; then
    note "$name: serves another certificate than the harness's"; return 1
  fi
  if [ -s "$session" ]; then
    tls_request | timeout 10 openssl s_client -connect "127.0.0.1:$listen" -ign_eof \
      -sess_in "$session" >"$second" 2>&1 || true
    if grep -q '^Reused, TLSv1.3' "$second"; then resumed=yes; fi
  fi
  if timeout 10 openssl s_client -connect "127.0.0.1:$listen" -tls1_2 </dev/null \
    >"$work/log/tls-$name-1.2.txt" 2>&1; then
    refuses=no
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$protocol $cipher" "${group:--}" "$refuses" \
    "$resumed" >>"$work/tls-params.tsv"
}

# --- machine and versions -------------------------------------------------------------------------
{
  printf 'started\t%s\n' "$started_at"
  printf 'mode\t%s\n' "$mode"
  printf 'runs\t%s\n' "$runs"
  printf 'duration\t%s\n' "$duration"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'memory\t%s\n' "$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  printf 'loadavg\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'pin\t%s\n' "$pin"
  printf 'proxy_cpus\t%s\n' "$proxy_cpus"
  printf 'load_cpus\t%s\n' "$load_cpus"
  printf 'proxy_threads\t%s\n' "$proxy_threads"
  printf 'mem_conns\t%s\n' "$mem_conns"
  printf 'mem_ws\t%s\n' "$mem_ws"
  if [ "$with_berth" = 1 ]; then
    printf 'version_berth\t%s\n' "$("$berth_bin" --version 2>&1 | tr -s ' \n' ' ')"
  fi
  printf 'version_nginx\t%s\n' "$(nginx -v 2>&1 | head -n 1)"
  printf 'version_haproxy\t%s\n' "$(haproxy -v 2>&1 | head -n 1)"
  printf 'version_caddy\t%s\n' "$(caddy version 2>&1 | head -n 1)"
  printf 'version_wrk\t%s\n' "$(wrk -v 2>&1 | head -n 1)"
  printf 'version_python\t%s\n' "$(python3 --version 2>&1)"
  if [ -n "$traefik_bin" ]; then
    printf 'version_traefik\t%s\n' "$("$traefik_bin" version 2>&1 | tr '\n' ' ' | tr -s ' ')"
  fi
} >"$work/meta.tsv"
log "mode $mode: ${runs} runs of ${duration}s each; proxy on CPU ${proxy_cpus}, load on CPU" \
  "${load_cpus} (pinned: $pin); work files in $work"
if [ -n "$docker_skipped" ]; then note "discovery and scaling left out: $docker_skipped"; fi

# --- section 1: throughput and latency ------------------------------------------------------------
backend_ports=()
if has_section throughput || has_section routing || has_section tls; then
  next_port b1; next_port b2
  backend_ports=("$b1" "$b2")
  conf_backend "$b1" "$b2" >"$work/conf/backend-nginx.conf"
  start backend-nginx "$load_cpus" nginx -e stderr -p "$work" -c "$work/conf/backend-nginx.conf"
  backend_pg=$pid
  wait_http backend-nginx "$backend_pg" "http://127.0.0.1:$b1/tiny" || die "backend did not start"
fi

if has_section throughput; then
  declare -A url_of=() header_of=() pg_of=()
  targets=()
  add_target() { # NAME BASE_URL PG STICKY
    local header
    if header=$(check_target "$1" "$2" "$4"); then
      targets+=("$1"); url_of[$1]=$2; pg_of[$1]=$3; header_of[$1]=$header
    else
      note "$1 left out of the throughput section (see above)"
    fi
  }
  add_target direct "http://127.0.0.1:$b1" - 0
  for kind in "${proxy_kinds[@]}"; do
    variants=(0)
    if [ "$kind" = berth ] || [ "$kind" = haproxy ]; then variants=(0 1); fi
    for sticky in "${variants[@]}"; do
      name=$kind
      if [ "$sticky" = 1 ]; then name=$kind-sticky; fi
      next_port listen
      start_proxy "$kind" "$name" "$listen" "$b1" "$b2" "$sticky"
      if wait_http "$name" "$pid" "http://127.0.0.1:$listen/tiny"; then
        add_target "$name" "http://127.0.0.1:$listen" "$pid" "$sticky"
      else
        note "$name did not start; left out"
        if [ "$kind" = berth ]; then die "berth does not serve; nothing to compare"; fi
      fi
    done
  done
  log "throughput: warming up ${targets[*]}"
  for t in "${targets[@]}"; do warm "${url_of[$t]}/tiny" "${header_of[$t]}"; done
  for run in $(seq 1 "$runs"); do
    # Each run visits every target once per cell, starting one target later each time, so slow
    # phases of the shared machine do not always hit the same target.
    n=${#targets[@]}
    for body in "${bodies[@]}"; do
      for conns in "${conns_list[@]}"; do
        log "throughput run $run/$runs: $body body, $conns connections"
        for i in $(seq 0 $((n - 1))); do
          t=${targets[$(((i + run - 1) % n))]}
          measure "throughput	$t	$conns	$body	$run" "${pg_of[$t]}" "${url_of[$t]}/$body" \
            "$conns" "${header_of[$t]}" >>"$work/results.tsv"
        done
      done
    done
  done
  if [ "$use_perf" = 1 ] && [ -n "${pg_of[berth]:-}" ]; then
    log "profiling berth with perf (tiny body, 64 connections)"
    perf record -e cpu-clock -F 999 -o "$work/perf.data" -p "${pg_of[berth]}" \
      -- sleep "$duration" >"$work/log/perf-record.log" 2>&1 &
    perf_pid=$!
    helpers+=("$perf_pid")
    sleep 0.2
    measure "profile	berth	64	tiny	1" "${pg_of[berth]}" "${url_of[berth]}/tiny" 64 \
      >>"$work/profile.tsv"
    wait "$perf_pid" || true
    perf_report() {
      perf report -i "$work/perf.data" --stdio --sort "$1" --percent-limit "$2" 2>/dev/null |
        grep -v '^#' | grep -v '^$' | sed -E 's/[[:space:]]+$//' | cut -c1-150 | head -n "$3"
    }
    { perf_report dso 1 8; echo; perf_report dso,symbol 0.7 40; } | sed -E 's/[[:space:]]+$//' \
      >"$work/perf.txt" || true
  fi
  # System calls per request tell write coalescing and event-loop overhead apart, and unlike
  # times they do not depend on how busy the machine is.
  if [ "$use_strace" = 1 ]; then
    for t in berth nginx haproxy; do
      [ -n "${pg_of[$t]:-}" ] || continue
      log "counting $t's system calls per request (strace -c)"
      strace_args=()
      for p in $(group_pids "${pg_of[$t]}"); do strace_args+=(-p "$p"); done
      timeout $((duration + 10)) strace -c -f -o "$work/strace-$t.txt" "${strace_args[@]}" \
        2>/dev/null &
      strace_pid=$!
      helpers+=("$strace_pid")
      sleep 0.5
      measure "syscalls	$t	64	tiny	1" - "${url_of[$t]}/tiny" 64 >"$work/strace-$t.wrk"
      kill -INT "$strace_pid" 2>/dev/null || true
      wait "$strace_pid" 2>/dev/null || true
      requests=$(awk -F'\t' -v d="$duration" '{printf "%.0f", $6 * d}' "$work/strace-$t.wrk")
      awk -v t="$t" -v n="$requests" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && n > 0 {
        printf "%s\t%s\t%.2f\n", t, $NF, $4 / n }' "$work/strace-$t.txt" >>"$work/syscalls.tsv"
    done
  fi
  for t in "${targets[@]}"; do
    if [ "${pg_of[$t]}" != - ]; then
      read -r rss pss < <(group_mem "${pg_of[$t]}")
      printf 'after_load\t%s\t%s\t%s\n' "$t" "$rss" "$pss" >>"$work/memory-after-load.tsv"
      stop "${pg_of[$t]}"
    fi
  done
fi

# --- section 5: routing scale ---------------------------------------------------------------------
if has_section routing; then
  route_targets=()
  declare -A route_url=() route_header=() route_pg=()
  route_kinds=()
  if [ "$with_berth" = 1 ]; then route_kinds+=(berth); fi
  if [ -n "$traefik_bin" ]; then route_kinds+=(traefik); fi
  if [ ${#route_kinds[@]} -eq 0 ]; then note "routing: neither berth nor Traefik; skipped"; fi
  for rule_kind in host path; do
    for count in "${route_counts[@]}"; do
      file=$work/conf/routes-$rule_kind-$count.yml
      target=$(python3 "$here/gen_routes.py" --kind "$rule_kind" --count "$count" \
        --server "http://127.0.0.1:${backend_ports[0]}" \
        --server "http://127.0.0.1:${backend_ports[1]}" --out "$file")
      printf 'routes-%s-%s\tpython3 bench/gen_routes.py --kind %s --count %s --server URL1 --server URL2\n' \
        "$rule_kind" "$count" "$rule_kind" "$count" >>"$work/commands.tsv"
      if [ "$rule_kind" = path ]; then
        mkdir -p "$work/www$target"
        cp "$work/www/tiny" "$work/www$target/tiny"
      fi
      for kind in "${route_kinds[@]}"; do
        name=$kind-$rule_kind-$count
        next_port listen
        start_proxy "$kind" "$name" "$listen" - - 0 "$file"
        if [ "$rule_kind" = host ]; then
          url="http://127.0.0.1:$listen/tiny"; header="Host: $target"; host=$target
        else
          url="http://127.0.0.1:$listen${target}tiny"; header=""; host=""
        fi
        if wait_http "$name" "$pid" "$url" "$host"; then
          route_targets+=("$name"); route_url[$name]=$url; route_header[$name]=$header
          route_pg[$name]=$pid
        else
          note "$name did not serve its last router; left out of the routing section"
        fi
      done
    done
  done
  for t in "${route_targets[@]}"; do warm "${route_url[$t]}" "${route_header[$t]}"; done
  n=${#route_targets[@]}
  for run in $(seq 1 "$((n > 0 ? runs : 0))"); do
    log "routing run $run/$runs"
    for i in $(seq 0 $((n - 1))); do
      t=${route_targets[$(((i + run - 1) % n))]}
      IFS=- read -r kind rule_kind count <<<"$t"
      measure "routing	$kind	$rule_kind	$count	$run" "${route_pg[$t]}" "${route_url[$t]}" 64 \
        "${route_header[$t]}" >>"$work/results.tsv"
    done
  done
  for t in "${route_targets[@]}"; do
    read -r rss pss < <(group_mem "${route_pg[$t]}")
    IFS=- read -r kind rule_kind count <<<"$t"
    printf 'routing\t%s\t%s\t%s\t%s\n' "$kind" "$rule_kind" "$count" "$rss" >>"$work/routing-rss.tsv"
    stop "${route_pg[$t]}"
  done
fi

# --- section 6: TLS -------------------------------------------------------------------------------
# Every proxy terminates TLS 1.3 with one certificate made for this run, in front of the same two
# backends as above (plain HTTP, keep-alive, round robin).
if has_section tls; then
  tls_dir=$work/tls
  mkdir -p "$tls_dir"
  if [ "$tls_key" = rsa ]; then
    key_args=(-newkey rsa:2048); key_text="RSA 2048"
  else
    key_args=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1); key_text="ECDSA P-256"
  fi
  req=(openssl req -x509 "${key_args[@]}" -sha256 -nodes -days 2 -subj /CN=bench.test
    -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" -keyout "$tls_dir/key.pem"
    -out "$tls_dir/cert.pem")
  "${req[@]}" >"$work/log/openssl-req.log" 2>&1 ||
    die "could not make the certificate (see $work/log/openssl-req.log)"
  printf 'tls-certificate\t%s\n' "$(quoted "${req[@]}")" >>"$work/commands.tsv"
  cat "$tls_dir/cert.pem" "$tls_dir/key.pem" >"$tls_dir/bundle.pem"
  tls_fingerprint=$(openssl x509 -noout -fingerprint -sha256 -in "$tls_dir/cert.pem")
  curl_tls=(--cacert "$tls_dir/cert.pem")
  printf 'tls_key\t%s\n' "$key_text" >>"$work/meta.tsv"
  printf 'version_openssl\t%s\n' "$(openssl version)" >>"$work/meta.tsv"
  printf 'version_ab\t%s\n' "$(ab -V 2>&1 | sed -n 's/^This is //p' | head -n 1)" >>"$work/meta.tsv"

  tls_targets=()
  declare -A tls_url=() tls_pg=()
  for kind in "${proxy_kinds[@]}"; do
    if [ "$kind" = caddy ]; then continue; fi
    name=tls-$kind
    next_port listen
    start_proxy "$kind" "$name" "$listen" "${backend_ports[0]}" "${backend_ports[1]}" 0 "" \
      "$tls_dir"
    url=https://127.0.0.1:$listen
    if wait_http "$name" "$pid" "$url/tiny" && check_target "$name" "$url" 0 >/dev/null &&
      tls_check "$kind" "$listen"; then
      tls_targets+=("$kind"); tls_url[$kind]=$url; tls_pg[$kind]=$pid
    else
      note "$name left out of the TLS section"
      stop "$pid"
      if [ "$kind" = berth ]; then die "berth does not serve TLS; nothing to compare"; fi
    fi
  done
  log "tls: warming up ${tls_targets[*]}"
  for t in "${tls_targets[@]}"; do warm "${tls_url[$t]}/tiny"; done
  n=${#tls_targets[@]}
  for run in $(seq 1 "$runs"); do
    # One mode at a time over all proxies, so that the figures a ratio pairs are measured close
    # together.
    for tls_mode in keepalive full resumed; do
      log "tls run $run/$runs: $tls_mode"
      for i in $(seq 0 $((n - 1))); do
        t=${tls_targets[$(((i + run - 1) % n))]}
        case "$tls_mode" in
          keepalive) measure "tls	$t	$tls_mode	$run" "${tls_pg[$t]}" "${tls_url[$t]}/tiny" 64 ;;
          full) measure_new "tls	$t	$tls_mode	$run" "${tls_pg[$t]}" "${tls_url[$t]}/tiny" 64 ;;
          resumed) measure "tls	$t	$tls_mode	$run" "${tls_pg[$t]}" "${tls_url[$t]}/tiny" 64 \
            "Connection: close" ;;
        esac >>"$work/results.tsv"
      done
    done
  done
  for t in "${tls_targets[@]}"; do stop "${tls_pg[$t]}"; done
fi
if [ -n "${backend_pg:-}" ]; then stop "$backend_pg"; fi

# --- section 2: memory ----------------------------------------------------------------------------
# hold NAME PROXY_PG PORT COUNT MODE PATH: opens COUNT idle connections and sets held_rss and
# held_pss (kB) to the proxy's memory with them open, or fails.
hold() {
  local name=$1 pg=$2 listen=$3 count=$4 hold_mode=$5 path=$6 i holder
  local cmd=(python3 "$here/holdconns.py" --port "$listen" --count "$count" --mode "$hold_mode"
    --path "$path" --timeout 30 --hold 120)
  if [ "$pin" = 1 ]; then cmd=(taskset -c "$load_cpus" "${cmd[@]}"); fi
  "${cmd[@]}" >"$work/log/hold-$name.out" 2>"$work/log/hold-$name.err" &
  holder=$!
  helpers+=("$holder")
  for i in $(seq 1 700); do
    if grep -q '^ready' "$work/log/hold-$name.out" 2>/dev/null; then break; fi
    if ! kill -0 "$holder" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if ! grep -q '^ready' "$work/log/hold-$name.out" 2>/dev/null; then
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    note "$name: $(cat "$work/log/hold-$name.err")"
    return 1
  fi
  sleep 0.5
  read -r held_rss held_pss < <(group_mem "$pg")
  kill -TERM "$holder" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  if [ -s "$work/log/hold-$name.err" ]; then note "$name: $(cat "$work/log/hold-$name.err")"; fi
}

if has_section memory; then
  next_port w1; next_port w2
  start wsecho "$load_cpus" python3 "$here/wsecho.py" --ports "$w1,$w2"
  ws_pg=$pid
  wait_http wsecho "$ws_pg" "http://127.0.0.1:$w1/" || die "the WebSocket backend did not start"
  for run in $(seq 1 "$runs"); do
    for kind in "${proxy_kinds[@]}"; do
      log "memory run $run/$runs: $kind"
      # Idle, then keep-alive connections, in one fresh process...
      next_port listen
      name=mem-$kind-$run
      start_proxy "$kind" "$name" "$listen" "$w1" "$w2" 0
      if wait_http "$name" "$pid" "http://127.0.0.1:$listen/"; then
        pg=$pid
        sleep 0.5
        read -r rss pss < <(group_mem "$pg")
        printf 'memory\t%s\t%s\tidle\t%s\t%s\t0\n' "$kind" "$run" "$rss" "$pss" >>"$work/results.tsv"
        if hold "$name-http" "$pg" "$listen" "$mem_conns" http /; then
          printf 'memory\t%s\t%s\tkeepalive\t%s\t%s\t%s\n' "$kind" "$run" "$((held_rss - rss))" \
            "$((held_pss - pss))" "$mem_conns" >>"$work/results.tsv"
        fi
        stop "$pg"
      else
        note "$name did not start"
      fi
      # ...and WebSockets in another, so that memory freed by the first test is not reused.
      next_port listen
      name=mem-$kind-ws-$run
      start_proxy "$kind" "$name" "$listen" "$w1" "$w2" 0
      if wait_http "$name" "$pid" "http://127.0.0.1:$listen/"; then
        pg=$pid
        sleep 0.5
        read -r rss pss < <(group_mem "$pg")
        if hold "$name" "$pg" "$listen" "$mem_ws" ws /ws; then
          printf 'memory\t%s\t%s\twebsocket\t%s\t%s\t%s\n' "$kind" "$run" "$((held_rss - rss))" \
            "$((held_pss - pss))" "$mem_ws" >>"$work/results.tsv"
        fi
        stop "$pg"
      else
        note "$name did not start"
      fi
    done
  done
  stop "$ws_pg"
fi

# --- sections 3 and 4: berth on the real Docker Engine --------------------------------------------
# Both images are staged FROM scratch from BERTH_BIN and WHOAMI_BIN, with no HEALTHCHECK: with one,
# berth (like Traefik) routes a container only once it is healthy, and these sections would measure
# the check's interval instead of berth. berth sees only this run's containers (its constraint),
# and the load comes from bench/httpload.py: a steady rate, not as fast as it can, so that Docker
# and the containers keep CPU to start and stop on.
docker_rate=800
docker_conns=8
if [ "$with_docker" = 1 ]; then
  compose=(docker-compose)
  if docker compose version >/dev/null 2>&1; then compose=(docker compose); fi
  log "docker: staging the images berth:bench and berth-whoami:bench"
  "$root/scripts/stage-image.sh" "$berth_bin" berth:bench --expose 80 >"$work/log/stage-berth.log" \
    2>&1 || die "could not stage berth:bench (see $work/log/stage-berth.log)"
  "$root/scripts/stage-image.sh" "$whoami_bin" berth-whoami:bench --expose 80 \
    >"$work/log/stage-whoami.log" 2>&1 ||
    die "could not stage berth-whoami:bench (see $work/log/stage-whoami.log)"
  printf 'stage-images\tscripts/stage-image.sh BERTH_BIN berth:bench --expose 80; %s\n' \
    "scripts/stage-image.sh WHOAMI_BIN berth-whoami:bench --expose 80" >>"$work/commands.tsv"
  {
    printf 'version_docker\tEngine %s, storage driver %s\n' \
      "$(docker version --format '{{.Server.Version}}' 2>&1)" \
      "$(docker info --format '{{.Driver}}' 2>&1)"
    printf 'version_compose\t%s\n' "$("${compose[@]}" version 2>&1 | head -n 1)"
    printf 'docker_rate\t%s\n' "$docker_rate"
    printf 'docker_conns\t%s\n' "$docker_conns"
    printf 'drain_delay\t%s\n' "$drain_delay"
  } >>"$work/meta.tsv"
fi
berth_flags=(--providers.docker=true --providers.docker.exposedbydefault=false
  "--providers.docker.constraints=Label(\`org.berth.bench\`,\`$bench_id\`)"
  --entrypoints.web.address=:80 --log.level=ERROR)
# docker_cmd NAME ARG...: runs one docker command that starts something, logged like start's.
docker_cmd() {
  local name=$1
  shift
  printf '%s\t%s\n' "$name" "$(quoted "$@" | sed "s/$bench_id/\$ID/g")" >>"$work/commands.tsv"
  "$@" >>"$work/log/docker.log" 2>&1
}
# published_port CONTAINER: the 127.0.0.1 port its port 80 is published on.
published_port() { docker port "$1" 80/tcp | awk -F: 'NR == 1 {print $NF}'; }
# wait_berth NAME PORT: until berth in a container answers at all (404 without a router), 20 s.
wait_berth() {
  local i code
  for i in $(seq 1 200); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$2/" || true)
    if [ "$code" != 000 ]; then return 0; fi
    sleep 0.1
  done
  docker logs "$1" 2>&1 | tail -n 20 >&2
  die "$1 did not answer on 127.0.0.1:$2 within 20 s"
}
# start_load NAME PORT HOST: bench/httpload.py's steady load through berth; sets $pid.
start_load() {
  start "$1" "$load_cpus" python3 "$here/httpload.py" load --port "$2" --host "$3" \
    --rate "$docker_rate" --connections "$docker_conns" --failures "$work/log/$1-failures.txt"
}
# load_counts: "requests failed non2xx socket replicas seconds p50 p99 max" of httpload's lines.
load_counts() {
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["requests"], v["failed"], v["non2xx"], v["socket"], v["replicas"], v["seconds"],
      v["p50_ms"], v["p99_ms"], v["max_ms"] }'
}
# stop_load PG NAME: stops it, letting its open requests end (5 s timeout), and prints load_counts
# of its summary.
stop_load() {
  local i
  kill -TERM "$1" 2>/dev/null || true
  for i in $(seq 1 80); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  stop "$1"
  grep '^summary ' "$work/log/$2.log" | load_counts
  if [ -s "$work/log/$2-failures.txt" ]; then
    note "$2: $(wc -l <"$work/log/$2-failures.txt") failed requests, the first:" \
      "$(head -n 3 "$work/log/$2-failures.txt" | cut -d' ' -f2- | tr '\n' ';')"
  fi
}

if has_section discovery; then
  net=$bench_id-discovery
  docker_cmd discovery-network docker network create --label "$bench_label" "$net" ||
    die "could not create the network $net"
  docker_cmd discovery-berth docker run -d --name "$bench_id-berth" --label "$bench_label" \
    --network "$net" -v /var/run/docker.sock:/var/run/docker.sock:ro -p 127.0.0.1::80 \
    berth:bench "${berth_flags[@]}" --providers.docker.network="$net" ||
    die "berth did not start in Docker (see $work/log/docker.log)"
  dport=$(published_port "$bench_id-berth")
  wait_berth "$bench_id-berth" "$dport"

  # Start -> served: each container gets a router of its own, so the first 200 for its Host is
  # served by it. The poller is already asking when the container starts.
  for i in $(seq 1 "$starts"); do
    log "discovery: start $i/$starts"
    name=$bench_id-start-$i
    docker_cmd discovery-start docker create --name "$name" --label "$bench_label" \
      --network "$net" --label traefik.enable=true \
      --label "traefik.http.routers.start$i.rule=Host(\`start$i.bench.test\`)" \
      --label "traefik.http.services.start$i.loadbalancer.server.port=80" berth-whoami:bench ||
      die "could not create $name (see $work/log/docker.log)"
    python3 "$here/httpload.py" first-ok --port "$dport" --host "start$i.bench.test" \
      --timeout 10 >"$work/log/first-ok.out" 2>&1 &
    poller=$!
    helpers+=("$poller")
    docker start "$name" >/dev/null
    poller_status=0
    wait "$poller" || poller_status=$?
    unset 'helpers[-1]'
    if [ "$poller_status" = 0 ]; then
      served=$(sed -n 's/^served //p' "$work/log/first-ok.out")
      started=$(date -d "$(docker inspect -f '{{.State.StartedAt}}' "$name")" +%s%N)
      printf 'discovery\tstart\t%s\t%s\n' "$i" "$(((served - started) / 1000))" \
        >>"$work/results.tsv"
    else
      note "discovery: container $i was not served through berth within 10 s"
    fi
    docker rm -f "$name" >/dev/null
  done

  # Removal: a service of several replicas under steady load; one at a time is stopped with
  # `docker stop`. Each replica logs every request's arrival and, like an app draining, serves on
  # for drain_delay after SIGTERM, so a request berth still routes to it after the daemon's kill
  # event shows up in its log instead of merely failing.
  replicas=4
  live=()
  next_replica=1
  start_replica() {
    local name=$bench_id-replica-$next_replica
    docker_cmd discovery-replica docker run -d --name "$name" --label "$bench_label" \
      --network "$net" --label traefik.enable=true \
      --label "traefik.http.routers.removal.rule=Host(\`removal.bench.test\`)" \
      --label "traefik.http.services.removal.loadbalancer.server.port=80" berth-whoami:bench \
      --log-requests --drain-delay "$drain_delay" || die "could not start $name"
    live+=("$name")
    next_replica=$((next_replica + 1))
  }
  # in_rotation NAME: until the replica has received a request through berth, 10 s at most.
  in_rotation() {
    local i
    for i in $(seq 1 100); do
      if docker logs "$1" 2>/dev/null | grep -q '^request '; then return 0; fi
      sleep 0.1
    done
    return 1
  }
  for i in $(seq 1 "$replicas"); do start_replica; done
  start_load removal-load "$dport" removal.bench.test
  load_pg=$pid
  for name in "${live[@]}"; do
    in_rotation "$name" || die "replica $name got no request through berth within 10 s"
  done
  for run in $(seq 1 "$removals"); do
    log "discovery: removal $run/$removals"
    victim=${live[0]}
    live=("${live[@]:1}")
    since=$(date +%s.%N)
    stop_started=$(date +%s%N)
    docker stop -t 10 "$victim" >/dev/null
    stop_ms=$((($(date +%s%N) - stop_started) / 1000000))
    kill_ns=$(docker events --since "$since" --until "$(date +%s.%N)" --filter "container=$victim" \
      --filter event=kill --format '{{.TimeNano}}' | awk 'NR == 1')
    if [ -z "$kill_ns" ]; then
      note "discovery: no kill event for $victim"
    else
      # Nanosecond times need more digits than awk's doubles: count from the kill's second.
      docker logs "$victim" 2>/dev/null | awk -v kill="$kill_ns" -v run="$run" -v stop="$stop_ms" '
        function ms(t) {
          return (substr(t, 1, 10) - substr(kill, 1, 10)) * 1000 + substr(t, 11) / 1e6
        }
        $1 == "request" && length($2) == 19 {
          n++; t = ms($2) - ms(kill)
          if (t > 0) after++
          if (last == "" || t > last) last = t
        }
        END { printf "discovery\tremoval\t%s\t%d\t%d\t%.3f\t%s\n", run, n, after, \
          last == "" ? 0 : last, stop }' >>"$work/results.tsv"
    fi
    docker rm "$victim" >/dev/null
    start_replica
    in_rotation "${live[-1]}" || note "discovery: ${live[-1]} got no request within 10 s"
  done
  summary=$(stop_load "$load_pg" removal-load)
  if [ -n "$summary" ]; then
    printf 'discovery\tload\t%s\n' "${summary// /	}" >>"$work/results.tsv"
  else
    note "discovery: the load gave no summary (see $work/log/removal-load.log)"
  fi
  docker_cleanup
fi

if has_section scaling; then
  # Two services of the same app: `app` serves on for drain_delay after SIGTERM, as in the
  # discovery section; `app-nodelay` drains at once (closes its listener and idle connections),
  # as many apps do. Each is scaled in turn under its own load, the other staying at 2.
  compose_file=$work/conf/compose.yml
  {
    printf 'services:\n  berth:\n    image: berth:bench\n    command:\n'
    for flag in "${berth_flags[@]}"; do printf "      - '%s'\n" "$flag"; done
    cat <<YAML
    ports:
      - "127.0.0.1::80"
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
    labels:
      org.berth.bench: "$bench_id"
  app:
    image: berth-whoami:bench
    command: ["--drain-delay", "$drain_delay"]
    labels:
      org.berth.bench: "$bench_id"
      traefik.enable: "true"
      traefik.http.routers.app.rule: "Host(\`app.bench.test\`)"
      traefik.http.services.app.loadbalancer.server.port: "80"
  app-nodelay:
    image: berth-whoami:bench
    labels:
      org.berth.bench: "$bench_id"
      traefik.enable: "true"
      traefik.http.routers.app-nodelay.rule: "Host(\`app-nodelay.bench.test\`)"
      traefik.http.services.app-nodelay.loadbalancer.server.port: "80"
networks:
  default:
    labels:
      org.berth.bench: "$bench_id"
YAML
  } >"$compose_file"
  scale() { # APP_REPLICAS NODELAY_REPLICAS
    local t0
    t0=$(date +%s%N)
    "${compose[@]}" -p "$bench_id" -f "$compose_file" up -d --no-recreate --scale "app=$1" \
      --scale "app-nodelay=$2" >>"$work/log/compose.log" 2>&1 ||
      die "compose could not scale to app=$1 app-nodelay=$2 (see $work/log/compose.log)"
    scale_seconds=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }')
  }
  printf 'scaling\t%s\n' "$(quoted "${compose[@]}" -p '$ID' -f '$WORK/conf/compose.yml' up -d \
    --no-recreate --scale 'app=2|8' --scale 'app-nodelay=2|8')" >>"$work/commands.tsv"
  log "scaling: compose project $bench_id, app and app-nodelay at 2"
  scale 2 2
  sport=$("${compose[@]}" -p "$bench_id" -f "$compose_file" port berth 80 |
    awk -F: 'NR == 1 {print $NF}')
  wait_berth "$("${compose[@]}" -p "$bench_id" -f "$compose_file" ps -q berth)" "$sport"
  settle=3
  for service in app app-nodelay; do
    python3 "$here/httpload.py" first-ok --port "$sport" --host "$service.bench.test" \
      --timeout 20 >"$work/log/first-ok.out" 2>&1 ||
      die "berth did not route the compose service $service within 20 s"
    start_load "scaling-$service-load" "$sport" "$service.bench.test"
    load_pg=$pid
    phases=()
    # phase NAME: ends the load's current phase, which is then named NAME (the last one ends
    # with the load, once its open requests have ended).
    phase() {
      phases+=("$service	$1	${scale_seconds:--}")
      if [ "${#phases[@]}" -lt $((3 * scale_cycles)) ]; then kill -USR1 "$load_pg"; sleep 0.2; fi
    }
    for cycle in $(seq 1 "$scale_cycles"); do
      scale_seconds=-
      sleep "$settle"
      phase "$cycle	steady-2"
      log "scaling: $service, cycle $cycle/$scale_cycles, 2 -> 8"
      if [ "$service" = app ]; then scale 8 2; else scale 2 8; fi
      sleep "$settle"
      phase "$cycle	up"
      log "scaling: $service, cycle $cycle/$scale_cycles, 8 -> 2"
      scale 2 2
      sleep "$settle"
      phase "$cycle	down"
    done
    summary=$(stop_load "$load_pg" "scaling-$service-load")
    mapfile -t lines < <(grep '^phase ' "$work/log/scaling-$service-load.log" | load_counts || true)
    for i in "${!phases[@]}"; do
      [ -n "${lines[$i]:-}" ] || break
      printf 'scaling\t%s\t%s\n' "${phases[$i]}" "${lines[$i]// /	}" >>"$work/results.tsv"
    done
    if [ -n "$summary" ]; then
      printf 'scaling\t%s\ttotal\t-\t-\t%s\n' "$service" "${summary// /	}" >>"$work/results.tsv"
    else
      note "scaling: the load on $service gave no summary (see $work/log/scaling-$service-load.log)"
    fi
  done
  docker_cleanup
  compose_file=""
fi

# --- report ---------------------------------------------------------------------------------------
printf 'elapsed\t%s\n' "$((SECONDS - start_seconds))" >>"$work/meta.tsv"
python3 "$here/report.py" --work "$work" --out "$out"
reported=1
log "done in $((SECONDS - start_seconds))s: $out"
