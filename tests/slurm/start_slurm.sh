#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for testing the workflow's SLURM profile (tests/test_slurm.py).
#
#   bash tests/slurm/start_slurm.sh        # as root; installs slurm-wlm + munge from Debian if missing
#   sinfo                                  # one node (this machine), idle
#   bash tests/slurm/start_slurm.sh --stop
#
# Idempotent: a second call with the cluster up only checks it. The config goes where every SLURM tool
# looks for it, /etc/slurm/slurm.conf (jobs run nested `srun` calls with a cleaned environment, so a
# SLURM_CONF elsewhere would not reach them); a slurm.conf that this script did not write is never
# overwritten. State, spool and logs live in $HEPAD_SLURM_DIR (default /tmp/hepad-slurm).
# No systemd and no cgroups (containers have neither): the daemons start directly, processes are
# tracked by /proc (proctrack/linuxproc) and not confined (task/none). There is no accounting database,
# so `sacct` cannot answer: the executor plugin must query squeue (--slurm-status-command squeue), and
# finished jobs stay visible to squeue for MinJobAge seconds, which the plugin wants to be at least
# 3 x its initial status-check delay.
# The node offers one stand-in GPU (a GRES backed by /dev/null): training jobs ask for `--gpus=1` as on a
# real cluster and get scheduled, and their scripts find no CUDA device and train on the CPU.
set -euo pipefail

DIR=${HEPAD_SLURM_DIR:-/tmp/hepad-slurm}
CONF=/etc/slurm/slurm.conf
GRES_CONF=/etc/slurm/gres.conf
MARK="# Written by tests/slurm/start_slurm.sh"
MIN_JOB_AGE=${HEPAD_SLURM_MIN_JOB_AGE:-300}
unset SLURM_CONF

say() { echo "start_slurm: $*"; }
die() { echo "start_slurm: error: $*" >&2; exit 1; }

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if [[ ${1:-} == --stop ]]; then
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munged.pid"; do
        if pid_alive "$pidfile"; then kill "$(cat "$pidfile")"; say "stopped $(basename "$pidfile" .pid)"; fi
    done
    exit 0
fi

[[ $(id -u) -eq 0 ]] || die "run as root (the daemons and the test jobs run as root here)"

# --- packages --------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
        || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and there is no apt-get to install them"
    say "installing slurm-wlm and munge (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    pkgs=(slurm-wlm munge)
    if ! apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >"$DIR.apt.log" 2>&1; then
        apt-get update -qq >>"$DIR.apt.log" 2>&1 || true
        apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$DIR.apt.log" 2>&1 \
            || die "apt-get install ${pkgs[*]} failed, see $DIR.apt.log"
    fi
fi

mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"

# --- munge: authentication between the SLURM daemons and clients -----------------------------------
# munged refuses to run as root; it runs as the package's "munge" user with its own socket directory.
MUNGE_SOCKET=/run/munge/munge.socket.2
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [[ -s /etc/munge/munge.key ]] || { mungekey --create >/dev/null 2>&1 || \
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge "$DIR/munge"
    chmod 755 /run/munge
    say "starting munged"
    runuser -u munge -- munged --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
        --socket="$MUNGE_SOCKET" || die "munged did not start, see $DIR/munge/munged.log"
    ln -sf "$DIR/munge/munged.pid" "$DIR/munged.pid"
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || die "munge does not work, see $DIR/munge/munged.log"
fi

# --- slurm.conf: this machine as the only node, a little less memory than it has ---------------------
node_line=$(slurmd -C | head -1)   # NodeName=<host> CPUs=.. Boards=.. ... RealMemory=<MB>
node=$(sed -n 's/.*NodeName=\([^ ]*\).*/\1/p' <<<"$node_line")
cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
real_mb=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
[[ -n $node && -n $cpus && -n $real_mb ]] || die "cannot read this machine's size from 'slurmd -C': $node_line"
mem_mb=$(( real_mb * 9 / 10 ))
topology=$(grep -o 'Boards=[0-9]* SocketsPerBoard=[0-9]* CoresPerSocket=[0-9]* ThreadsPerCore=[0-9]*' \
    <<<"$node_line" || true)

new_conf=$(cat <<EOF
$MARK: a one-node test cluster, no cgroups, no accounting.
ClusterName=hepad-test
GresTypes=gpu
SlurmctldHost=$node
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Finished jobs stay in squeue this long: the workflow's status checks see them finish.
MinJobAge=$MIN_JOB_AGE
SchedulerParameters=sched_interval=2
NodeName=$node CPUs=$cpus $topology RealMemory=$mem_mb Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
)

# The stand-in GPU (see above).
new_gres="$MARK
NodeName=$node Name=gpu File=/dev/null"

for file in "$CONF" "$GRES_CONF"; do
    if [[ -s $file ]] && ! grep -qF "$MARK" "$file"; then
        die "$file exists and was not written by this script: this machine has its own SLURM set-up; use it, or move $file away"
    fi
done
restart=0
if [[ $(cat "$CONF" 2>/dev/null) != "$new_conf" ]] || [[ $(cat "$GRES_CONF" 2>/dev/null) != "$new_gres" ]]; then
    mkdir -p /etc/slurm
    printf '%s\n' "$new_conf" >"$CONF"
    printf '%s\n' "$new_gres" >"$GRES_CONF"
    restart=1
fi

# --- daemons ---------------------------------------------------------------------------------------
if (( restart )); then
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid"; do
        if pid_alive "$pidfile"; then kill "$(cat "$pidfile")"; sleep 1; fi
    done
fi
if ! pid_alive "$DIR/slurmctld.pid"; then
    say "starting slurmctld (config $CONF)"
    # -c: a clean start, no jobs from an earlier run of this test cluster.
    slurmctld -c -f "$CONF" || die "slurmctld did not start, see $DIR/slurmctld.log"
fi
if ! pid_alive "$DIR/slurmd.pid"; then
    say "starting slurmd"
    slurmd -f "$CONF" || die "slurmd did not start, see $DIR/slurmd.log"
fi

# --- wait until the node takes jobs ----------------------------------------------------------------
state=""
for _ in $(seq 120); do
    state=$(sinfo -h -n "$node" -o %t 2>/dev/null | head -1 || true)
    case $state in
        idle|mix|alloc) say "node $node is $state (config $CONF, logs in $DIR)"; exit 0 ;;
        down*|drain*) scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.5
done
die "node $node not idle after 60 s (state '${state:-no answer}'); see $DIR/slurmctld.log and $DIR/slurmd.log"
