#!/usr/bin/env bash
# Makes sure the services seedline's tests and demo talk to are installed and running:
# PostgreSQL on 127.0.0.1:5432 (trust auth for local connections) and RabbitMQ on
# 127.0.0.1:5672 (guest/guest) with its management API on :15672. Installs them from Debian's packages when missing, and
# Chromium (/usr/bin/chromium), which the seed report's browser test drives headless.
# Safe to run again: it only acts on what is missing or stopped.
set -euo pipefail

log() { printf 'ensure-services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() { # port, seconds, name
  for _ in $(seq 1 "$2"); do port_open "$1" && return 0; sleep 1; done
  log "$3 did not come up on 127.0.0.1:$1 within $2 s"; return 1
}

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL (apt-get)"
    apt_install postgresql
    local version; version=$(ls /etc/postgresql | sort -V | tail -1)
    # A fresh Debian cluster asks for passwords on TCP; the tests connect as postgres with none.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/; s/^(local\s+all\s+(postgres|all)\s+)\S+/\1trust/' "$hba"
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL is not accepting connections on 127.0.0.1:5432"; return 1; }
  fi
  log "PostgreSQL is up on 127.0.0.1:5432"
}

ensure_rabbitmq() {
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    log "installing RabbitMQ (apt-get)"
    apt_install rabbitmq-server
  fi
  if ! port_open 5672; then
    log "starting RabbitMQ"
    as_root rabbitmq-server -detached || true
    wait_for_port 5672 90 RabbitMQ
  fi
  # The port opens before the broker is fully booted; wait until it says it is running.
  as_root rabbitmqctl -q await_startup --timeout 90 >/dev/null 2>&1 || true
  log "RabbitMQ is up on 127.0.0.1:5672"
  # seed's backlog watch and seedline capacity read queue depths and rates from the management
  # HTTP API (127.0.0.1:15672). Enabling is idempotent and needs no restart; without the
  # plugin they fall back to AMQP passive declares.
  if ! port_open 15672; then
    log "enabling the RabbitMQ management plugin (HTTP API on 127.0.0.1:15672)"
    as_root rabbitmq-plugins enable --quiet rabbitmq_management >/dev/null || log "could not enable rabbitmq_management; the backlog watch will use AMQP passive declares"
    wait_for_port 15672 60 "the RabbitMQ management API" || true
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Chromium (apt-get), for the report page's headless browser test"
    apt_install chromium
  fi
  log "Chromium is at /usr/bin/chromium"
}

ensure_protobuf() {
  # protoc checks every generated .proto compiles; Google's Python library reads a dump back.
  if ! command -v protoc >/dev/null 2>&1; then
    log "installing protobuf-compiler (apt-get), for the generated-schema tests"
    apt_install protobuf-compiler
  fi
  if ! /usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1; then
    log "installing python3-protobuf (apt-get), for the read-back-in-Python test"
    apt_install python3-protobuf
  fi
  log "protoc and Python protobuf are installed"
}

ensure_postgres
ensure_rabbitmq
ensure_chromium
ensure_protobuf
