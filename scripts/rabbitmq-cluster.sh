#!/usr/bin/env bash
# A 3-node RabbitMQ cluster of our own on 127.0.0.1, for the cluster tests and bench and for
# trying partitioned seeding on one machine. It never touches the system broker on 5672
# (node rabbit@<host>): own node names, ports, Erlang cookie, data and log directories, all
# under one work directory that `stop` removes.
#
#   scripts/rabbitmq-cluster.sh start            boot 3 nodes, join 2 and 3 to 1, print the URLs
#   scripts/rabbitmq-cluster.sh status           per node: name, ports, running or not; cluster status
#   scripts/rabbitmq-cluster.sh stop             stop every node, remove the work directory
#   scripts/rabbitmq-cluster.sh urls             the AMQP URLs, comma-separated (for seed --amqp-url)
#   scripts/rabbitmq-cluster.sh ctl N ARGS...    rabbitmqctl against node N (stop_app, start_app, ...)
#   scripts/rabbitmq-cluster.sh pid N            the OS pid of node N's Erlang VM (for kill -9)
#   scripts/rabbitmq-cluster.sh restart N        bring node N back after stop_app or a kill (it rejoins the cluster)
#
# Ports (defaults; SEEDLINE_CLUSTER_PORT sets the base B):
#   node N (1..3): AMQP 127.0.0.1:B+N  (5701, 5702, 5703)
#                  Erlang distribution 127.0.0.1:B+N+20000 (25701, 25702, 25703)
#                  with SEEDLINE_CLUSTER_MANAGEMENT=1: the management API on 127.0.0.1:B+N+10000
#                  (15701, 15702, 15703; guest/guest), e.g. to watch a quorum queue's leader
#   epmd 127.0.0.1:4369 is shared with any other Erlang node on the machine.
# Node names: ${SEEDLINE_CLUSTER_NAME:-seedline-c}N@localhost. Work directory:
# ${SEEDLINE_CLUSTER_DIR:-${TMPDIR:-/tmp}/seedline-cluster-<name>}. Tests set all three to run
# a cluster of their own next to this default one.
# Needs the rabbitmq-server package (scripts/ensure-services.sh installs it).
set -euo pipefail

NODES=3
NAME=${SEEDLINE_CLUSTER_NAME:-seedline-c}
BASE=${SEEDLINE_CLUSTER_PORT:-5700}
DIR=${SEEDLINE_CLUSTER_DIR:-${TMPDIR:-/tmp}/seedline-cluster-$NAME}
BIN=${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
START_TIMEOUT=${SEEDLINE_CLUSTER_TIMEOUT:-120}

log() { printf 'rabbitmq-cluster: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

node_name() { echo "$NAME$1@localhost"; }
amqp_port() { echo $((BASE + $1)); }
dist_port() { echo $((BASE + $1 + 20000)); }
http_port() { echo $((BASE + $1 + 10000)); }
MANAGEMENT=${SEEDLINE_CLUSTER_MANAGEMENT:-0}
node_dir() { echo "$DIR/node$1"; }

# The environment every node and every rabbitmqctl call shares: HOME holds the one Erlang
# cookie (how the nodes and the CLI authenticate to each other); the empty env file keeps
# /etc/rabbitmq/rabbitmq-env.conf (the system broker's settings) out.
node_env() {
  local n=$1 d; d=$(node_dir "$n")
  export HOME="$DIR/home"
  export RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf"
  export RABBITMQ_NODENAME; RABBITMQ_NODENAME=$(node_name "$n")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT; RABBITMQ_NODE_PORT=$(amqp_port "$n")
  export RABBITMQ_DIST_PORT; RABBITMQ_DIST_PORT=$(dist_port "$n")
  export RABBITMQ_MNESIA_BASE="$d/mnesia"
  export RABBITMQ_LOG_BASE="$d/log"
  export RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf"
  export RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins"
  export RABBITMQ_PID_FILE="$d/rabbit.pid"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

ctl() { # node, args...
  local n=$1; shift
  (node_env "$n"; "$BIN/rabbitmqctl" -n "$(node_name "$n")" "$@")
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { # node: its start script's process group is alive
  local f; f="$(node_dir "$1")/pgid"
  # The leader itself too: right after boot, setsid may not have made the group yet.
  [ -f "$f" ] && { kill -0 "$(cat "$f")" || kill -0 -- "-$(cat "$f")"; } 2>/dev/null
}

boot_node() {
  local n=$1 d; d=$(node_dir "$n")
  mkdir -p "$d/mnesia" "$d/log"
  printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users = none\n' "$(amqp_port "$n")" >"$d/rabbitmq.conf"
  if [ "$MANAGEMENT" = 1 ]; then printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' "$(http_port "$n")" >>"$d/rabbitmq.conf"; fi
  # setsid: the node's processes (start script, beam, port helpers) get a group of their own,
  # so stop can end all of them and nothing else.
  (node_env "$n"; exec setsid "$BIN/rabbitmq-server" >"$d/log/console.log" 2>&1 </dev/null) &
  echo $! >"$d/pgid"
}

wait_node() {
  local n=$1 d; d=$(node_dir "$n")
  for _ in $(seq 1 "$START_TIMEOUT"); do
    running "$n" || die "node $(node_name "$n") exited while starting; see $d/log"
    if port_open "$(amqp_port "$n")" && ctl "$n" -q await_startup --timeout 5 >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "node $(node_name "$n") did not start within $START_TIMEOUT s; see $d/log"
}

urls() {
  local out="" n
  for n in $(seq 1 $NODES); do out+="${out:+,}amqp://guest:guest@127.0.0.1:$(amqp_port "$n")"; done
  echo "$out"
}

start() {
  for n in $(seq 1 $NODES); do
    running "$n" && die "node $(node_name "$n") is already running (work directory $DIR); run stop first"
    port_open "$(amqp_port "$n")" && die "port $(amqp_port "$n") is taken; set SEEDLINE_CLUSTER_PORT to another base"
  done
  [ -x "$BIN/rabbitmq-server" ] || die "no RabbitMQ at $BIN; run scripts/ensure-services.sh"
  rm -rf "$DIR"
  mkdir -p "$DIR/home"
  : >"$DIR/rabbitmq-env.conf"
  if [ "$MANAGEMENT" = 1 ]; then echo '[rabbitmq_management].' >"$DIR/enabled_plugins"; else echo '[].' >"$DIR/enabled_plugins"; fi
  # One cookie for all three nodes and the CLI, unrelated to the system broker's.
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$DIR/home/.erlang.cookie"
  chmod 400 "$DIR/home/.erlang.cookie"
  # Whether epmd ran before us decides whether stop may end it.
  if epmd -names >/dev/null 2>&1; then touch "$DIR/epmd-was-running"; fi
  for n in $(seq 1 $NODES); do boot_node "$n"; done
  for n in $(seq 1 $NODES); do wait_node "$n"; done
  for n in $(seq 2 $NODES); do
    ctl "$n" -q stop_app >/dev/null
    ctl "$n" -q join_cluster "$(node_name 1)" >/dev/null
    ctl "$n" -q start_app >/dev/null
  done
  ctl 1 -q await_online_nodes $NODES --timeout 60 >/dev/null 2>&1 || true
  log "3 nodes up: $(for n in $(seq 1 $NODES); do printf '%s ' "$(node_name "$n")"; done)(work directory $DIR)"
  urls
}

stop_node() {
  local n=$1 d pgid; d=$(node_dir "$n")
  [ -f "$d/pgid" ] || return 0
  pgid=$(cat "$d/pgid")
  if kill -0 -- "-$pgid" 2>/dev/null; then
    ctl "$n" -q stop --timeout 20 >/dev/null 2>&1 || true
    for _ in $(seq 1 20); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.5; done
    # Whatever is left (a node that did not answer, port helpers outliving beam).
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
  rm -f "$d/pgid"
}

stop() {
  [ -d "$DIR" ] || { log "nothing to stop ($DIR does not exist)"; return 0; }
  local pids=() n
  for n in $(seq 1 $NODES); do stop_node "$n" & pids+=($!); done
  wait "${pids[@]}"
  # epmd is shared: end it only if we started it and no node is registered any more.
  if [ ! -f "$DIR/epmd-was-running" ] && ! epmd -names 2>/dev/null | grep -q '^name '; then epmd -kill >/dev/null 2>&1 || true; fi
  rm -rf "$DIR"
  log "stopped; removed $DIR"
}

status() {
  [ -d "$DIR" ] || { log "not running ($DIR does not exist)"; return 3; }
  local n state up=0
  for n in $(seq 1 $NODES); do
    state=down
    if [ -n "$(beam_pid "$n" 2>/dev/null)" ]; then
      if port_open "$(amqp_port "$n")"; then state=running; up=$((up + 1)); else state='VM up, app stopped'; fi
    fi
    printf '%-24s amqp 127.0.0.1:%-5s dist %-5s %s\n' "$(node_name "$n")" "$(amqp_port "$n")" "$(dist_port "$n")" "$state"
  done
  for n in $(seq 1 $NODES); do
    if running "$n" && ctl "$n" -q cluster_status 2>/dev/null; then break; fi
  done
  [ "$up" -eq "$NODES" ]
}

beam_pid() { # node: the beam.smp process in its group
  local pgid; pgid=$(cat "$(node_dir "$1")/pgid" 2>/dev/null) || die "node $1 is not running"
  ps -eo pid=,pgid=,comm= | awk -v g="$pgid" '$2 == g && $3 ~ /^beam/ { print $1; exit }'
}

restart_node() {
  local n=$1
  [ -d "$DIR" ] || die "no cluster at $DIR; run start first"
  # After a kill -9 the port helpers of the old VM take a moment to notice.
  for _ in $(seq 1 20); do running "$n" && [ -z "$(beam_pid "$n")" ] || break; sleep 0.5; done
  if [ -n "$(beam_pid "$n" 2>/dev/null)" ]; then
    ctl "$n" -q start_app >/dev/null # the VM runs: it was stop_app'ed
  else
    boot_node "$n"
  fi
  wait_node "$n"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  urls) urls ;;
  ctl) shift; n=${1:?node number 1..3}; shift; ctl "$n" "$@" ;;
  pid) beam_pid "${2:?node number 1..3}" ;;
  restart) restart_node "${2:?node number 1..3}" ;;
  *) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
