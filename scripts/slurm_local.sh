#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, without systemd, for testing `gradflow submit`
# (scripts/check_slurm.sh). Needs Debian's slurmctld slurmd slurm-client munge (scripts/test.sh
# installs them) and root. Everything it writes (slurm.conf, spool, state, logs, pids) stays in
# STATE_DIR; it stops only the daemons it started, by their PIDs. Idempotent.
# usage: slurm_local.sh start|stop|status [STATE_DIR]   (default /tmp/gradflow-slurm)
#   then: export SLURM_CONF=STATE_DIR/slurm.conf  (start prints it)
set -euo pipefail
action="${1:-}"
state="${2:-/tmp/gradflow-slurm}"
mkdir -p "$state"
state="$(cd "$state" && pwd)"
conf="$state/slurm.conf"
export SLURM_CONF="$conf"

alive() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

logs_tail() {
  for f in "$state"/slurmctld.log "$state"/slurmd.log "$state"/*.out /var/log/munge/munged.log; do
    [ -f "$f" ] && { echo "--- tail of $f"; tail -n 25 "$f"; }
  done
  return 0
}

write_conf() {
  local host node
  host="$(hostname -s)"
  # `slurmd -C` prints this machine as a NodeName line (CPUs, sockets, cores, memory).
  node="$(slurmd -C | grep '^NodeName=')"
  mkdir -p "$state/ctld" "$state/spool"
  # CR_Core, not the example's CR_Core_Memory: with memory tracked, each array task would ask
  # for all of the node's memory and the tasks would run one at a time. A small MinJobAge and
  # batch_sched_delay=0 let `sbatch --wait` return as soon as the job ends.
  cat > "$conf.tmp" <<EOF
ClusterName=gradflow
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.daemon.pid
SlurmdPidFile=$state/slurmd.daemon.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MinJobAge=2
MaxArraySize=100001
ReturnToService=2
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$conf.tmp" "$conf"
}

start_munge() {
  # A munged already answering (the system's, or ours from an earlier start) is reused.
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  mkdir -p /run/munge
  chown munge:munge /run/munge
  chmod 0755 /run/munge
  if [ ! -f /etc/munge/munge.key ]; then
    setpriv --reuid=munge --regid=munge --init-groups mungekey --create --keyfile=/etc/munge/munge.key
  fi
  # setpriv execs munged, so $! is the daemon itself.
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
    >> "$state/munged.out" 2>&1 &
  echo $! > "$state/munged.pid"
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "slurm_local: munged did not start" >&2
  logs_tail >&2
  return 1
}

node_state() { sinfo -h -N -o '%T' 2>/dev/null | head -n 1; }

start() {
  export PATH="$PATH:/usr/sbin"
  for tool in munged slurmctld slurmd sinfo sbatch setpriv; do
    command -v "$tool" >/dev/null 2>&1 \
      || { echo "slurm_local: $tool not found; install slurmctld slurmd slurm-client munge" >&2; return 1; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "slurm_local: must run as root (starts munged as munge)" >&2; return 1; }
  start_munge
  if ! alive slurmctld; then
    write_conf
    # -D: stay in the foreground so $! is the daemon; -c: forget jobs of an earlier start.
    setsid slurmctld -D -c -f "$conf" >> "$state/slurmctld.out" 2>&1 &
    echo $! > "$state/slurmctld.pid"
  fi
  if ! alive slurmd; then
    setsid slurmd -D -f "$conf" >> "$state/slurmd.out" 2>&1 &
    echo $! > "$state/slurmd.pid"
  fi
  local s=""
  for _ in $(seq 300); do
    s="$(node_state)"
    # Our own daemons must be the ones answering (not a cluster started elsewhere).
    case "$s" in idle|mixed|allocated) alive slurmctld && alive slurmd || break; echo "slurm_local: node $s; export SLURM_CONF=$conf"; return 0 ;; esac
    # A node left down/drained by an earlier run of this cluster is brought back.
    case "$s" in down*|drain*) scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true ;; esac
    alive slurmctld && alive slurmd || break
    sleep 0.1
  done
  echo "slurm_local: the node did not become idle (state: ${s:-unknown})" >&2
  logs_tail >&2
  return 1
}

stop() {
  local name pid
  for name in slurmd slurmctld munged; do
    [ -f "$state/$name.pid" ] || continue
    pid="$(cat "$state/$name.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$state/$name.pid"
  done
  echo "slurm_local: stopped"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) sinfo -N 2>&1 || true; for n in munged slurmctld slurmd; do
            alive "$n" && echo "$n: running (pid $(cat "$state/$n.pid"))" || echo "$n: not started here"; done ;;
  logs) logs_tail ;;
  *) echo "usage: $0 start|stop|status|logs [STATE_DIR]" >&2; exit 2 ;;
esac
