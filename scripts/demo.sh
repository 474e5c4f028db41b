#!/usr/bin/env bash
# The README's main job: start the built-in lab and run the collection against it.
#
#   bash scripts/demo.sh            # 1 configuration server + 10 process servers in mixed starting states
#   bash scripts/demo.sh --ps 4     # a smaller estate
#   bash scripts/demo.sh --keep     # leave the lab running afterwards (python -m lab down to stop it)
#
# What it does, against emulated Windows hosts on 127.0.0.1 driven over real WinRM (HTTPS, certificate
# validated against the lab's own CA):
#   1. python -m lab up --seed mixed: fresh hosts, a current one, an old build, a drifted proxy, and ps05,
#      a process server that is dead (the configuration server still lists it);
#   2. playbooks/site.yml on every live process server: install, MARS proxy, registration, health gate;
#   3. playbooks/site.yml again: nothing to change, one remote call per host;
#   4. playbooks/plan.yml: sizing from one survey per host plus the planned load, fleet plan, capacity report;
#   5. a summary: what changed, remote calls per host, the report's path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PS=10
KEEP=0
while (($#)); do
    case "$1" in
        --ps) PS="$2"; shift ;;
        --keep) KEEP=1 ;;
        -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown option '$1' (--ps N, --keep)" >&2; exit 2 ;;
    esac
    shift
done
[[ "$PS" =~ ^[0-9]+$ ]] && ((PS >= 5)) || { echo "demo.sh: --ps needs a number >= 5 (the mixed seed describes ps01-ps05)" >&2; exit 2; }

# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"
PYTHON="$(lane_python 2.19)"
[[ -n "$PYTHON" ]] || { echo "demo.sh: needs Python >= 3.11 as python3" >&2; exit 1; }
echo "== setting up the virtual environment (.venv, pinned requirements)"
setup_venv 2.19 "$PYTHON"
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0

DIR="$ROOT/.lab/demo"
INVENTORY="$DIR/inventory.yml"
VERSION=9.55.7123.1 # the build the mixed seed's configuration server runs (lab/seeds/README.md)
python -m lab down --dir "$DIR" >/dev/null 2>&1 || true
stop_lab() { ((KEEP)) || python -m lab down --dir "$DIR" >/dev/null 2>&1 || true; }
trap stop_lab EXIT

echo "== starting the lab: 1 configuration server + $PS process servers (seed: mixed)"
python -m lab up --cs 1 --ps "$PS" --seed mixed --dir "$DIR" | sed 's/^/   /'
mkdir -p "$DIR/media"
python -m lab installer --version "$VERSION" --out "$DIR/media/MicrosoftAzureSiteRecoveryUnifiedSetup.exe" >/dev/null

# The fleet's variables, as an operator keeps them in group_vars (inventories/example). The passphrase is
# the lab configuration server's; in production it comes from Ansible Vault.
CS_IP="$(python - "$DIR" <<'EOF'
import sys
from lab import estate
meta = estate.read_meta(estate.Estate(sys.argv[1]))
print(next(h["ip"] for h in meta["hosts"].values() if h["role"] == "configuration_server"))
EOF
)"
cat >"$DIR/fleet-vars.yml" <<EOF
asr_configuration_server_ip: "$CS_IP"
asr_passphrase: LabPassphrase0001
asr_installer: "$DIR/media/MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
asr_installer_version: "$VERSION"
asr_install_location: 'D:\\'
asr_env_type: NonVMware
asr_data_port: 9443
asr_ip: "{{ asr_lab_ip }}"
asr_poll_interval: 1
asr_proxy:
  address: http://proxy.corp.example
  port: 3128
  username: CORP\\svc-asr
  password: Demo-Proxy-Passw0rd
asr_planned_load:
  protected_machines: 120
  daily_churn_gb: 700
asr_report_dir: "$ROOT/reports"
EOF
chmod 600 "$DIR/fleet-vars.yml"

calls() { # remote calls per host so far, from the lab's journal
    python -m lab status --dir "$DIR" --json |
        python -c 'import json, sys; print(json.dumps({n: h["calls"] for n, h in json.load(sys.stdin)["hosts"].items()}))'
}

run() { # title, playbook, extra args...
    local title="$1" book="$2"
    shift 2
    echo
    echo "== $title: ansible-playbook $book $*"
    ansible-playbook -i "$INVENTORY" -e "@$DIR/fleet-vars.yml" "$ROOT/playbooks/$book" "$@" | tee "$DIR/$book.$title.log" |
        sed -n '/^PLAY RECAP/,$p'
}

# ps05 is the dead process server of the mixed seed: roll out to the live ones; decommission.yml
# (asr_decommission_hosts=ps05, asr_purge_from_configuration_server=true) is how it leaves the estate.
run "rollout" site.yml --limit '!ps05'
BEFORE="$(calls)"
run "converged" site.yml --limit '!ps05'
AFTER="$(calls)"
run "capacity" plan.yml --limit '!ps05'

REPORT="$(ls -t "$ROOT"/reports/capacity-*.html 2>/dev/null | head -n1 || true)"
python - "$BEFORE" "$AFTER" "$DIR" "$REPORT" <<'EOF'
import json, re, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
directory, report = sys.argv[3], sys.argv[4]
recap = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
def parse(name):
    with open(f"{directory}/{name}", encoding="utf-8") as handle:
        return {m[0]: (int(m[1]), int(m[2]) + int(m[3])) for m in recap.findall(handle.read())}
first, second = parse("site.yml.rollout.log"), parse("site.yml.converged.log")
hosts = sorted(h for h in after if h.startswith("ps") and h in first)
print("\n== summary")
print(f"{'host':8} {'rollout':>12} {'second run':>12} {'remote calls (2nd run)':>24}")
for host in hosts:
    changed1 = "changed" if first[host][0] else "unchanged"
    changed2 = "changed" if second.get(host, (0, 0))[0] else "unchanged"
    if first[host][1] or second.get(host, (0, 0))[1]:
        changed2 += " FAILED"
    print(f"{host:8} {changed1:>12} {changed2:>12} {after.get(host, 0) - before.get(host, 0):>24}")
failed = [h for h in hosts if first[h][1] or second.get(h, (0, 0))[1]]
print(f"\nprocess servers converged: {len(hosts) - len(failed)} of {len(hosts)} (ps05 is dead: purge it with "
      "decommission.yml)")
print(f"capacity report: {report or 'not written'}")
print(f"logs and fleet variables: {directory}")
sys.exit(1 if failed or not report else 0)
EOF
