#!/usr/bin/env bash
# rapl-access.sh — let one group read the RAPL energy counters, persistently, via udev.
#
# Part of lamarr-energy-tracker. See docs/rapl-access.md, or run with --help.
set -euo pipefail

readonly PROG=${0##*/}
readonly RULE_NAME=99-lamarr-energy-tracker-rapl.rules
readonly MSR_RULE_NAME=99-lamarr-energy-tracker-msr.rules
readonly MODULES_LOAD_NAME=lamarr-energy-tracker-msr.conf
readonly MARKER='# Managed by lamarr-energy-tracker scripts/rapl-access.sh'

GROUP=energy
DRY_RUN=0
UNDO=0
MSR=0
ROOT=''
SKIP_ROOT_CHECK=0
readonly ORIGINAL_ARGS=("$@")

usage() {
  cat <<EOF
Usage: sudo $PROG [--group NAME] [--msr] [--dry-run] [--undo] [--root PREFIX [--skip-root-check]]

Grant read access to the RAPL energy counters (energy_uj of every powercap zone and
subzone, every socket, intel-rapl and intel-rapl-mmio) to ONE group, not to everyone:

  * creates the group if needed (groupadd --system),
  * installs the udev rule /etc/udev/rules.d/$RULE_NAME so the
    grant survives reboots and covers zones that appear later,
  * applies it now: chgrp GROUP + chmod g+r on the existing energy_uj files
    (and udevadm control --reload-rules / udevadm trigger when udevadm exists).

Then add the users who may measure:  sudo usermod -aG GROUP USER  (they must log in again).

Options:
  --group NAME       group that gets read access (default: energy)
  --msr              also grant GROUP read access to /dev/cpu/*/msr and load the msr module at
                     boot (/etc/modules-load.d/$MODULES_LOAD_NAME). Off by default.
                     Reading MSRs also needs CAP_SYS_RAWIO; the command to grant it to node is
                     printed, never run.
  --dry-run          print what would be done and change nothing (no root needed)
  --undo             remove the rule(s) and restore root-only modes (0400 root for energy_uj;
                     0600 root for /dev/cpu/*/msr when the MSR rule was installed or --msr is given).
                     The group is kept.
  --root PREFIX      operate on a fake root: every path is taken under PREFIX, and groupadd,
                     udevadm and modprobe are printed instead of run (for tests). In this mode
                     the group must already exist on this host.
  --skip-root-check  with --root only: do not require root (tests as an ordinary user)
  -h, --help         this help

Security: the counters are root-only since Linux 5.10 because of the PLATYPUS power side
channel (CVE-2020-8694, AMD CVE-2020-12912). Every member of GROUP can use that side
channel. Never make them world-readable (chmod a+r / 444).
EOF
}

die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

note() {
  printf '%s\n' "$*"
}

while (($# > 0)); do
  case $1 in
    --group)
      (($# >= 2)) || die '--group needs a NAME'
      GROUP=$2
      shift 2
      ;;
    --group=*)
      GROUP=${1#--group=}
      shift
      ;;
    --root)
      (($# >= 2)) || die '--root needs a PREFIX'
      ROOT=$2
      shift 2
      ;;
    --root=*)
      ROOT=${1#--root=}
      shift
      ;;
    --dry-run) DRY_RUN=1; shift ;;
    --undo) UNDO=1; shift ;;
    --msr) MSR=1; shift ;;
    --skip-root-check) SKIP_ROOT_CHECK=1; shift ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# Group names as useradd/groupadd accept them by default (no leading digit or dash, ≤ 32).
[[ $GROUP =~ ^[a-z_][a-z0-9_-]{0,30}\$?$ ]] || die "invalid group name: $GROUP"

((SKIP_ROOT_CHECK == 0)) || [[ -n $ROOT ]] || die '--skip-root-check is only allowed with --root'
# The effective uid; LET_RAPL_ACCESS_TEST_EUID lets tests simulate a non-root caller.
EUID_NOW=${LET_RAPL_ACCESS_TEST_EUID:-$EUID}
[[ $EUID_NOW =~ ^[0-9]+$ ]] || die "bad LET_RAPL_ACCESS_TEST_EUID: $EUID_NOW"
if ((EUID_NOW != 0 && DRY_RUN == 0 && SKIP_ROOT_CHECK == 0)); then
  die "must be run as root (try: sudo $0 ${ORIGINAL_ARGS[*]}), or use --dry-run to see what it would do"
fi

if [[ -n $ROOT ]]; then
  [[ -d $ROOT ]] || die "--root $ROOT is not a directory"
  ROOT=$(cd -- "$ROOT" && pwd -P)
  [[ $ROOT != / ]] || ROOT=''
fi

readonly RULES_DIR="$ROOT/etc/udev/rules.d"
readonly RULE_FILE="$RULES_DIR/$RULE_NAME"
readonly MSR_RULE_FILE="$RULES_DIR/$MSR_RULE_NAME"
readonly MODULES_LOAD_FILE="$ROOT/etc/modules-load.d/$MODULES_LOAD_NAME"
readonly POWERCAP="$ROOT/sys/class/powercap"

# Run a command that changes the system, or print it under --dry-run.
run() {
  if ((DRY_RUN)); then
    printf '[dry-run] would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Run a command with effects outside the (fake) root: printed, not run, under --root.
host_effect() {
  if [[ -n $ROOT ]]; then
    printf '[--root] not run (outside the fake root):'
    printf ' %q' "$@"
    printf '\n'
  else
    run "$@"
  fi
}

# write_file PATH MODE < content
write_file() {
  local path=$1 mode=$2 content
  content=$(cat)
  if ((DRY_RUN)); then
    printf '[dry-run] would write %s (mode %s):\n' "$path" "$mode"
    printf '%s\n' "$content" | sed 's/^/    | /'
    return
  fi
  mkdir -p -- "$(dirname -- "$path")"
  local tmp
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f -- "$tmp" "$path"
  note "wrote $path"
}

remove_file() {
  local path=$1
  if [[ -e $path || -L $path ]]; then
    run rm -f -- "$path"
    ((DRY_RUN)) || note "removed $path"
  else
    note "not present: $path"
  fi
}

# Every energy_uj of every intel-rapl / intel-rapl-mmio zone and subzone, once each.
# /sys/class/powercap lists every zone flat (intel-rapl:0, intel-rapl:0:0, intel-rapl-mmio:0);
# the nested pattern also covers trees where subzones exist only inside their parent.
energy_files() {
  local f real
  local -A seen=()
  shopt -s nullglob
  for f in "$POWERCAP"/intel-rapl:*/energy_uj "$POWERCAP"/intel-rapl-mmio:*/energy_uj \
    "$POWERCAP"/intel-rapl:*/intel-rapl:*/energy_uj "$POWERCAP"/intel-rapl-mmio:*/intel-rapl-mmio:*/energy_uj; do
    real=$(readlink -f -- "$f") || continue
    [[ -f $real && -z ${seen[$real]:-} ]] || continue
    seen[$real]=1
    printf '%s\n' "$f"
  done
  shopt -u nullglob
}

msr_files() {
  local f
  shopt -s nullglob
  for f in "$ROOT"/dev/cpu/[0-9]*/msr; do
    printf '%s\n' "$f"
  done
  shopt -u nullglob
}

group_exists_on_host() {
  getent group "$1" >/dev/null 2>&1
}

warn_side_channel() {
  cat <<EOF

WARNING — what this grant means
  Since Linux 5.10 (and 5.4.77 and other stable backports) energy_uj is readable by root
  only, because of the PLATYPUS power side channel (CVE-2020-8694 for Intel, CVE-2020-12912
  for AMD): sampling the energy counters quickly enough lets a local process infer data
  processed by other code on the same CPU, including cryptographic keys (it has been shown
  against SGX enclaves and the kernel). Granting the group "$GROUP" read access gives every
  member of that group this side channel. Use it on machines whose members you trust with
  that (your workstation, a dedicated benchmark machine), not on shared multi-tenant hosts,
  and never make the files world-readable. Remove it with: sudo $PROG --undo$( [[ $GROUP == energy ]] || printf ' --group %s' "$GROUP")

EOF
}

rapl_rule() {
  local chgrp chmod
  chgrp=$(command -v chgrp || printf '/bin/chgrp')
  chmod=$(command -v chmod || printf '/bin/chmod')
  cat <<EOF
$MARKER
# Let group "$GROUP" read the RAPL energy counters (energy_uj) of every powercap zone and
# subzone, on every socket: intel-rapl (also used for AMD and Hygon CPUs) and intel-rapl-mmio.
# The counters are root-only since Linux 5.10 because of the PLATYPUS side channel
# (CVE-2020-8694, CVE-2020-12912); every member of "$GROUP" can use it.
# Remove with: sudo scripts/rapl-access.sh --undo   (or delete this file and reboot)
ACTION=="add|change", SUBSYSTEM=="powercap", KERNEL=="intel-rapl:*", RUN+="$chgrp $GROUP %S%p/energy_uj", RUN+="$chmod g+r %S%p/energy_uj"
ACTION=="add|change", SUBSYSTEM=="powercap", KERNEL=="intel-rapl-mmio:*", RUN+="$chgrp $GROUP %S%p/energy_uj", RUN+="$chmod g+r %S%p/energy_uj"
EOF
}

msr_rule() {
  cat <<EOF
$MARKER
# Let group "$GROUP" read /dev/cpu/*/msr (RAPL energy status registers). Reading MSRs also
# needs CAP_SYS_RAWIO in the reading process. Remove with: sudo scripts/rapl-access.sh --undo --msr
SUBSYSTEM=="msr", KERNEL=="msr[0-9]*", GROUP="$GROUP", MODE="0640"
EOF
}

apply() {
  warn_side_channel

  # 1. The group.
  if group_exists_on_host "$GROUP"; then
    note "group $GROUP exists"
  elif [[ -n $ROOT ]]; then
    if ((DRY_RUN)); then
      host_effect groupadd --system "$GROUP"
    else
      die "group $GROUP does not exist on this host; with --root it must (groupadd is not run in a fake root)"
    fi
  else
    run groupadd --system "$GROUP"
  fi

  # 2. The udev rule (persistent across reboots and for zones that appear later).
  rapl_rule | write_file "$RULE_FILE" 0644

  # 3. Apply now to the existing counters.
  local files=() f
  mapfile -t files < <(energy_files)
  if ((${#files[@]} == 0)); then
    note "no RAPL energy_uj files under $POWERCAP (no RAPL on this machine, or the intel_rapl_common module is not loaded); the rule applies when they appear"
  fi
  for f in "${files[@]}"; do
    run chgrp -- "$GROUP" "$f"
    run chmod g+r -- "$f"
    ((DRY_RUN)) || note "granted: $f ($(stat -c '%A %U:%G' -- "$f"))"
  done
  if [[ -n $ROOT ]] || command -v udevadm >/dev/null 2>&1; then
    host_effect udevadm control --reload-rules
    host_effect udevadm trigger --action=change --subsystem-match=powercap
  else
    note "udevadm not found: the rule takes effect at the next boot (the files above are already granted)"
  fi

  # 4. Optional MSR access.
  if ((MSR)); then
    msr_rule | write_file "$MSR_RULE_FILE" 0644
    printf 'msr\n' | write_file "$MODULES_LOAD_FILE" 0644
    host_effect modprobe msr
    mapfile -t files < <(msr_files)
    for f in "${files[@]}"; do
      run chgrp -- "$GROUP" "$f"
      run chmod g+r -- "$f"
    done
    if [[ -n $ROOT ]] || command -v udevadm >/dev/null 2>&1; then
      host_effect udevadm trigger --action=change --subsystem-match=msr
    fi
    cat <<'EOF'

MSR access also needs the capability CAP_SYS_RAWIO in the reading process. This script does
NOT grant it. To opt in for node (every script run by this node binary gets raw MSR access,
and the capability is lost when node is upgraded), run yourself:
    sudo setcap cap_sys_rawio=ep "$(readlink -f "$(command -v node)")"
Powercap (energy_uj) needs no capability and is preferred.
EOF
  fi

  cat <<EOF

Next: add each user who may measure to the group, then log in again (or run: newgrp $GROUP):
    sudo usermod -aG $GROUP "\$USER"
Check with: lamarr-energy-tracker probe
EOF
  ((DRY_RUN == 0)) || note $'\n(dry run: nothing was changed)'
}

undo() {
  local files=() f msr_installed=0
  if [[ -e $MSR_RULE_FILE || -e $MODULES_LOAD_FILE ]]; then
    msr_installed=1
  fi

  remove_file "$RULE_FILE"
  mapfile -t files < <(energy_files)
  for f in "${files[@]}"; do
    if ((EUID_NOW == 0)); then
      run chgrp -- root "$f"
    else
      note "not root: leaving the group of $f (mode 0400 makes it irrelevant)"
    fi
    run chmod 0400 -- "$f"
    ((DRY_RUN)) || note "restored root-only: $f ($(stat -c '%A %U:%G' -- "$f"))"
  done

  if ((MSR || msr_installed)); then
    remove_file "$MSR_RULE_FILE"
    remove_file "$MODULES_LOAD_FILE"
    mapfile -t files < <(msr_files)
    for f in "${files[@]}"; do
      if ((EUID_NOW == 0)); then
        run chgrp -- root "$f"
      fi
      run chmod 0600 -- "$f"
    done
    note "if you granted node CAP_SYS_RAWIO, remove it with: sudo setcap -r \"\$(readlink -f \"\$(command -v node)\")\""
  fi

  if [[ -n $ROOT ]] || command -v udevadm >/dev/null 2>&1; then
    host_effect udevadm control --reload-rules
  fi
  note "the group $GROUP is kept; remove it with 'sudo groupdel $GROUP' if nothing else uses it"
  ((DRY_RUN == 0)) || note '(dry run: nothing was changed)'
}

if ((UNDO)); then
  undo
else
  apply
fi
