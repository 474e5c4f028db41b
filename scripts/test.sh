#!/usr/bin/env bash
# The project's one test command (README "Testing"; CI runs it through .ci/run).
#
#   bash scripts/test.sh                 # everything: lane 2.19 (Python 3.11) then lane 2.21 (Python 3.12)
#   bash scripts/test.sh --fast          # quick local loop (< 2 min): ruff, changelog lint, pytest unit + lab smoke
#   bash scripts/test.sh --lane 2.21     # one lane only (2.19 or 2.21)
#   ASR_TEST_WORKERS=0 bash scripts/test.sh   # pytest in one process (default: 4 pytest-xdist workers, --fast 2)
#
# Per lane it creates or reuses a virtualenv (.venv for 2.19, .venv-2.21 for 2.21), installs the pinned
# requirements (requirements/dev.txt, requirements/dev-2.21.txt; skipped when unchanged since the last
# install), then runs each step below. Lane-independent checks and tests run once, in the first lane; the second
# lane runs what depends on its ansible-core, ansible.windows and Python (LATER_LANE_TESTS). Independent
# sequences of steps run side by side as background jobs (the checks; molecule + benchmark; each lane's
# artifact + sanity; the second lane) next to the first lane's pytest, so both cores stay busy
# (docs/dev/test-time.md); a job stops at its first failing step, and the run fails when any step failed.
# Each step prints a banner and its duration (a job's output is printed when it ends); a summary follows (each step's
# duration and its start, seconds after the run began: how the jobs shared the cores).
#   ruff check / ruff format --check, antsibull-changelog lint, antsibull-docs lint-collection-docs, Pester,
#   ansible-lint (production profile, offline), the pwsh the lab runs the collection's scripts with, pytest (it
#   includes the PowerShell check: pwsh's own parser, Windows PowerShell 5.1 / .NET 4.5 compatibility, check mode,
#   pslint rules, tests/unit/test_check_powershell.py; fails without pwsh), molecule test of the default and upgrade
#   scenarios (against the lab; first lane only), the benchmark smoke, Galaxy build + install + import check,
#   ansible-test sanity on the built artifact with empty ignore files.
# --fast (docs/dev/test-time.md): ruff, antsibull-changelog lint, the lab's pwsh, and pytest on FAST_TESTS (the unit
# tests, the PowerShell check among them, and a lab smoke: one real playbook over WinRM); nothing else.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Let Python cache what it compiles (this machine's environment sets PYTHONDONTWRITEBYTECODE=1): pytest then keeps its
# rewritten test modules and every later process (pytest workers, python -m lab, the scripts) loads the lab's and the
# tests' modules compiled instead of compiling them again - collecting the suite takes 1.7 s of CPU instead of 4.6 s.
# __pycache__ is ignored by git and left out of the Galaxy artifact (galaxy.yml build_ignore).
unset PYTHONDONTWRITEBYTECODE

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

FAST=0
LANES=()
while (($#)); do
    case "$1" in
        --fast) FAST=1 ;;
        --lane)
            [[ $# -ge 2 ]] || { echo "test.sh: --lane needs 2.19 or 2.21" >&2; exit 2; }
            case "$2" in 2.19 | 2.21) LANES+=("$2") ;; *) echo "test.sh: unknown lane '$2' (2.19 or 2.21)" >&2; exit 2 ;; esac
            shift ;;
        --lane=*)
            case "${1#--lane=}" in 2.19 | 2.21) LANES+=("${1#--lane=}") ;; *) echo "test.sh: unknown lane '${1#--lane=}'" >&2; exit 2 ;; esac ;;
        -h | --help) usage; exit 0 ;;
        *) echo "test.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if ((${#LANES[@]} == 0)); then
    if ((FAST)); then LANES=(2.19); else LANES=(2.19 2.21); fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/asr-test.XXXXXX")"
SUMMARY=()
START_ALL=$SECONDS
CURRENT=""

finish() {
    local rc=$? pid
    for pid in ${JOB_PIDS[*]:-}; do kill_tree "$pid"; done # a job still running when the run failed
    local lab
    for lab in "$WORK"/molecule-*/lab; do stop_lab "$lab" 2>/dev/null || true; done
    for pid in ${VENV_JOBS[*]:-} ${JOB_PIDS[*]:-}; do wait "$pid" 2>/dev/null || true; done
    if ((rc == 0)); then rm -rf "$WORK"; else echo "(work files kept for inspection: $WORK)"; fi
    echo
    echo "==================== summary ===================="
    printf '%-6s %5s %6s  %s\n' "" took start step
    local line
    for line in "${SUMMARY[@]}"; do echo "$line"; done
    if ((rc != 0)) && [[ -n "$CURRENT" ]]; then
        echo "FAILED  $CURRENT"
    fi
    printf '%-8s total %ds\n' "$( ((rc == 0)) && echo OK || echo FAIL)" $((SECONDS - START_ALL))
    exit "$rc"
}
trap finish EXIT

# step LABEL COMMAND...: banner, run, record duration; the first failure ends the run.
# The command runs in a subshell with errexit on (a bare `cmd || rc=$?` would switch errexit off inside
# shell functions, hiding a failing first command of a multi-command step). Steps therefore cannot set
# variables for later steps; they pass results through files under $WORK.
step() {
    local label="$1"
    shift
    CURRENT="$label"
    echo
    echo "==================== $label ===================="
    local t0=$SECONDS rc
    set +e
    (
        set -e
        "$@"
    )
    rc=$?
    set -e
    local dt=$((SECONDS - t0))
    if ((rc != 0)); then
        SUMMARY+=("$(printf '%-6s %4ds %6s  %s (exit %d)' FAIL "$dt" "+$((t0 - START_ALL))s" "$label" "$rc")")
        echo "==================== FAILED: $label (exit $rc, ${dt}s) ===================="
        exit "$rc"
    fi
    SUMMARY+=("$(printf '%-6s %4ds %6s  %s' ok "$dt" "+$((t0 - START_ALL))s" "$label")")
    CURRENT=""
    echo "---- $label: ok (${dt}s)"
}

skip() {
    SUMMARY+=("$(printf '%-6s %4s  %6s  %s' skip - "" "$1")")
    echo
    echo "==================== skipped: $1 ===================="
}

# ---------------------------------------------------------------------------------------------- jobs
# job NAME FUNCTION ARGS...: run FUNCTION in the background, its output in $WORK/job-NAME.log. Inside it,
# job_step LABEL COMMAND... runs one step as step does and appends "rc seconds label" to the job's record;
# FUNCTION lists its steps as plain commands: after a failed step job_step runs no other (a step run inside an &&
# or || list would have errexit switched off in its subshell, so a failing command that is not its last went
# unnoticed: the ruff step passed with ruff check failing). join_jobs waits for every job,
# prints each one's output in the order they were started, adds their steps to the summary, and ends the
# run when a step failed.
# The jobs run at a lower priority (nice 10) than the step in the foreground, lane 2.19's pytest, which is the run's
# critical path: the cores are nearly always busy, so the jobs take the CPU its lab tests leave while they wait on
# WinRM round trips instead of slowing it down; they still end before it (docs/dev/test-time.md).
JOB_NICE="${ASR_TEST_JOB_NICE:-10}"
JOB_PIDS=()
JOB_NAMES=()
job() {
    local name="$1"
    shift
    echo "---- job started in the background: $name"
    (
        renice -n "$JOB_NICE" -p "$BASHPID" >/dev/null 2>&1 || true
        JOB_RECORD="$WORK/job-$name.record"
        : >"$JOB_RECORD"
        set +e
        "$@"
    ) >"$WORK/job-$name.log" 2>&1 &
    JOB_PIDS+=($!)
    JOB_NAMES+=("$name")
}

job_step() {
    local label="$1" t0=$SECONDS rc
    shift
    if [[ -n "${JOB_FAILED:-}" ]]; then return 1; fi # the job stops at its first failing step
    echo
    echo "==================== $label ===================="
    set +e
    (
        set -e
        "$@"
    )
    rc=$?
    printf '%d %d %d %s\n' "$rc" $((SECONDS - t0)) $((t0 - START_ALL)) "$label" >>"$JOB_RECORD"
    if ((rc != 0)); then
        JOB_FAILED=1
        echo "==================== FAILED: $label (exit $rc, $((SECONDS - t0))s) ===================="
    else
        echo "---- $label: ok ($((SECONDS - t0))s)"
    fi
    return "$rc"
}

join_jobs() {
    local i rc dt start label failed=0 exit_rc=0
    for i in "${!JOB_PIDS[@]}"; do
        wait "${JOB_PIDS[$i]}" || true
        echo
        echo "#################### job ${JOB_NAMES[$i]} (ran in the background) ####################"
        cat "$WORK/job-${JOB_NAMES[$i]}.log"
        while read -r rc dt start label; do
            if ((rc != 0)); then
                SUMMARY+=("$(printf '%-6s %4ds %6s  %s (exit %d, job %s)' FAIL "$dt" "+${start}s" "$label" "$rc" \
                    "${JOB_NAMES[$i]}")")
                ((failed)) || { CURRENT="$label"; exit_rc=$rc; }
                failed=1
            else
                SUMMARY+=("$(printf '%-6s %4ds %6s  %s (job %s)' ok "$dt" "+${start}s" "$label" "${JOB_NAMES[$i]}")")
            fi
        done <"$WORK/job-${JOB_NAMES[$i]}.record"
    done
    JOB_PIDS=()
    JOB_NAMES=()
    if ((failed)); then
        exit "$exit_rc"
    fi
    CURRENT=""
}

kill_tree() { # end a background job and every process it started: each one is frozen before its children are
    # listed (so it cannot start another meanwhile), then all of them are terminated
    local pids=("$1") i=0 child
    while ((i < ${#pids[@]})); do
        kill -STOP "${pids[$i]}" 2>/dev/null || true
        for child in $(pgrep -P "${pids[$i]}" 2>/dev/null); do pids+=("$child"); done
        i=$((i + 1))
    done
    kill -TERM "${pids[@]}" 2>/dev/null || true
    kill -CONT "${pids[@]}" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------- lanes
# lane_python, lane_venv, lane_requirements, setup_venv
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

# ---------------------------------------------------------------------------------------------- steps
run_ruff() {
    ruff check .
    ruff format --check .
}

# pytest with pytest-xdist workers, a test module's tests on one worker in their order (--dist loadfile: a
# module-scoped lab estate is built once, a reliability module's records keep their order). The whole suite runs 4
# workers on CI's 2 cores: a lab test waits for much of its time (setup's poll interval, the hosts' emulated
# durations, WinRM round trips): with 2 workers lane 2.19's pytest took 776 s of a 837 s run that used the cores
# at 125 % (e7619ff); 4 overlap one worker's waiting with another's work (alone: 400 s wall, 707 s CPU, 176 %;
# docs/dev/test-time.md). --fast keeps 2 (its unit tests do not wait). ASR_TEST_WORKERS=N sets the number; 0 runs
# in one process. --no-loadscope-reorder: files go to the workers in collection order, which tests/conftest.py
# makes longest first (xdist's default order, most tests first, handed the 230 s fault matrix out last).
run_pytest() {
    local rc=0 workers="${ASR_TEST_WORKERS:-${DEFAULT_WORKERS:-2}}"
    local parallel=()
    if [[ "$workers" != 0 ]]; then parallel=(-n "$workers" --dist loadfile --no-loadscope-reorder); fi
    pytest "${parallel[@]}" "$@" || rc=$?
    if ((rc == 5)); then
        echo "pytest collected no tests: CI needs real tests (exit 5 is a failure here)"
    fi
    return "$rc"
}

# The plugin documentation as the Ansible docsite builds it: schema, every markup reference (O(), M(), P(), RV() ...
# name something that exists), and the generated RST through rstcheck. Offline: it reads the checkout (through the
# collections/ symlink, which gives it the ansible_collections/asr/process_server path it needs) and ansible-doc.
run_docs_lint() { antsibull-docs lint-collection-docs --plugin-docs collections/ansible_collections/asr/process_server; }

run_pytest_one_process() { ASR_TEST_WORKERS=0 run_pytest "$@"; }

check_sanity_ignores() {
    local f bad=0
    for f in tests/sanity/ignore-2.19.txt tests/sanity/ignore-2.20.txt tests/sanity/ignore-2.21.txt; do
        if [[ ! -f "$f" ]]; then
            echo "$f: missing (must exist and be empty)"
            bad=1
        elif [[ -s "$f" ]]; then
            echo "$f: not empty; certified sanity runs with empty ignore files. Fix the finding instead:"
            cat "$f"
            bad=1
        fi
    done
    return "$bad"
}

lane_artifact() {
    local found=("$WORK/$1"/dist/asr-process_server-*.tar.gz)
    [[ -f "${found[0]}" ]] || { echo "no artifact built for lane $1" >&2; return 1; }
    echo "${found[0]}"
}

# molecule test of molecule/default (create starts the lab, destroy stops it). The ephemeral directory is
# pinned under $WORK so the lab's estate is known here: whatever happens (a failed action, a failing destroy,
# an interrupt), the EXIT trap stops a lab server that is still running, and the step fails if one survives.
run_molecule() { # scenario (default: the roles on a fresh estate; upgrade: upgrade.yml from installed-old)
    local scenario="$1" eph="$WORK/molecule-$1"
    mkdir -p "$eph"
    trap "stop_lab '$eph/lab'" EXIT
    MOLECULE_EPHEMERAL_DIRECTORY="$eph" molecule test --scenario-name "$scenario"
    stop_lab "$eph/lab"
    if pgrep -f -- "-m lab serve --dir $eph/lab" >/dev/null; then
        echo "molecule left a lab server running for $eph/lab"
        return 1
    fi
}

stop_lab() { # stop the lab estate in $1 if one is there (python -m lab down waits until its ports close)
    if [[ -f "$1/estate.json" ]]; then python -m lab down --dir "$1"; fi
}

# Build the Galaxy artifact, install it (no dependencies: no Galaxy here; ansible.windows comes from the
# "ansible" package), check its content and import every plugin module from the installed copy.
build_and_install() {
    local lane="$1" out="$WORK/$1"
    rm -rf "$out" && mkdir -p "$out/dist" "$out/installed"
    (cd "$out" && ansible-galaxy collection build --output-path "$out/dist" "$ROOT")
    local artifact
    artifact="$(lane_artifact "$lane")"
    (cd "$out" && ansible-galaxy collection install --force --no-deps --offline -p "$out/installed" "$artifact")
    (cd "$out" && ANSIBLE_COLLECTIONS_PATH="$out/installed" python "$ROOT/scripts/check_artifact.py" "$artifact" "$out/installed")
}

# ansible-test bootstraps pip into each sanity venv with get-pip.py from a host CI cannot reach; it uses a
# cached copy first. Put our stand-in there for every pip version this ansible-test asks for.
install_get_pip_standin() {
    local src versions v dest
    src="$(python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py"
    versions="$(grep -oE "pip='[0-9.]+'" "$src" | grep -oE '[0-9.]+' | sort -u)"
    [[ -n "$versions" ]] || { echo "cannot find the pip version ansible-test wants in $src"; return 1; }
    mkdir -p "$HOME/.ansible/test/cache"
    for v in $versions; do
        dest="$HOME/.ansible/test/cache/get_pip_${v//./_}.py"
        # two lanes' sanity runs may do this at once: never leave a half-copied file where ansible-test reads it
        cmp -s "$ROOT/scripts/get_pip_standin.py" "$dest" ||
            { cp "$ROOT/scripts/get_pip_standin.py" "$dest.$$" && mv -f "$dest.$$" "$dest"; }
        echo "get-pip stand-in for pip $v: $dest"
    done
}

# ansible-test sanity on exactly what Galaxy ships: the artifact unpacked at
# .../ansible_collections/asr/process_server inside a fresh git work tree.
run_sanity() {
    local lane="$1" pyver="$2" tree="$WORK/$1/sanity/ansible_collections/asr/process_server" artifact
    artifact="$(lane_artifact "$lane")"
    install_get_pip_standin
    rm -rf "$WORK/$lane/sanity" && mkdir -p "$tree"
    tar -xzf "$artifact" -C "$tree"
    (
        cd "$tree"
        git init -q .
        git add -A
        git -c user.name=ci -c user.email=ci@invalid -c commit.gpgsign=false commit -qm "artifact under test"
        ansible-test sanity --local --python "$pyver" --color no
    )
}

# ---------------------------------------------------------------------------------------------- main
echo "asr.process_server tests: lanes ${LANES[*]}$( ((FAST)) && echo ' (--fast: unit tests + lab smoke)')"
# The later lanes' virtualenvs are made in the background while the first lane runs (pip is mostly waiting on
# the network and the disk; a fresh .venv-2.21 took 64 s); each lane's own step then waits for its result.
declare -A VENV_JOBS=()
for lane in "${LANES[@]:1}"; do
    python="$(lane_python "$lane")"
    [[ -n "$python" ]] || continue
    (
        renice -n "$JOB_NICE" -p "$BASHPID" >/dev/null 2>&1 || true # the first lane's venv is the critical path
        set +e
        (
            set -e
            setup_venv "$lane" "$python"
        ) >"$WORK/venv-$lane.log" 2>&1
        echo $? >"$WORK/venv-$lane.rc.tmp" && mv "$WORK/venv-$lane.rc.tmp" "$WORK/venv-$lane.rc"
    ) &
    VENV_JOBS[$lane]=$!
done
venv_result() { # lane: the background setup's output and exit status (after the main shell waited for it)
    cat "$WORK/venv-$1.log"
    return "$(cat "$WORK/venv-$1.rc" 2>/dev/null || echo 1)"
}
BASE_PATH="$PATH"
use_lane() { # put the lane's virtualenv first on PATH (in this shell, or in the job that calls it)
    local venv
    venv="$(lane_venv "$1")"
    export PATH="$venv/bin:$BASE_PATH" VIRTUAL_ENV="$venv"
    hash -r
}
lane_pyver() { python -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
await_venv() { # lane: wait (in a job: polling) for the background setup of a later lane's virtualenv, show it
    while [[ ! -f "$WORK/venv-$1.rc" ]]; do sleep 1; done
    venv_result "$1"
}

# the lane-independent checks (one job: together they take about 1.5 minutes of one core). The PowerShell check is
# no step of its own: pytest runs it (tests/unit/test_check_powershell.py::test_the_repository_passes_its_own_check
# runs scripts/check_powershell.py on the checkout, as this step did), so it ran twice.
run_checks() {
    local lane="$1"
    job_step "[$lane] ruff check + ruff format --check" run_ruff
    job_step "[$lane] antsibull-changelog lint" antsibull-changelog lint
    job_step "[$lane] antsibull-docs lint-collection-docs (plugin docs)" run_docs_lint
    job_step "[$lane] sanity ignore files are empty" check_sanity_ignores
    job_step "[$lane] Pester (tests/powershell, the scripts as sent)" python scripts/run_pester.py
    job_step "[$lane] ansible-lint (production, offline)" ansible-lint --nocolor
    job_step "[$lane] execution environment (ansible-builder create)" bash scripts/ee_context.sh "$WORK/ee-context"
}

# --fast: the checks that take seconds
run_fast_checks() {
    local lane="$1"
    job_step "[$lane] ruff check + ruff format --check" run_ruff
    job_step "[$lane] antsibull-changelog lint" antsibull-changelog lint
}

# the lab driven from outside a test process (python -m lab up/serve): molecule's scenarios, then the benchmark
run_lab_runs() {
    local lane="$1"
    # One pwsh worker per lab server (lab/pshost.py, default 4): each further worker pays pwsh's start and the JIT of
    # every script again. Measured back to back: molecule upgrade 37.5 -> 29.0 s of CPU, the benchmark smoke 32.0 ->
    # 27.0 s, molecule default unchanged; the same runs pass (calls from several hosts queue for the one worker).
    export ASR_LAB_PWSH_WORKERS="${ASR_LAB_PWSH_WORKERS:-1}"
    job_step "[$lane] molecule (default scenario)" run_molecule default
    job_step "[$lane] molecule (upgrade scenario)" run_molecule upgrade
    # real playbooks against a 2-PS lab; fails only on a broken run or a converged host above 1 remote
    # call, never on timing (docs/benchmarks.md)
    job_step "[$lane] benchmark (smoke)" python bench/run.py --ci
}

# what Galaxy ships, and ansible-test sanity on it
run_artifact() {
    local lane="$1" pyver="$2"
    job_step "[$lane] galaxy build + install + import check" build_and_install "$lane"
    if ((!FAST)); then
    job_step "[$lane] ansible-test sanity (Python $pyver)" run_sanity "$lane" "$pyver"
    fi
}

# A later lane proves what changes with its ansible-core, its ansible.windows and its Python (docs/dev/test-time.md):
# the plugin tests (action plugins on its ActionBase, filters, ansible-doc, plugin routing; the pure domain on its
# Python), the lab's side of what ansible-core and ansible.windows send (payload decoding, the modules' own specs,
# pywinrm, put_file, the lab CLI's ad-hoc win_ping), the lab acceptance playbook, a read-only module round trip
# (info) and one install with staging, become and the secrets' scan (the payload, file transfer, runas). What does
# not depend on ansible-core runs once, in the first lane: the repository checks in tests/unit (docs, changelog,
# PowerShell check, artifact content, the benchmark's harness) and the lab's emulation of Windows and ASR (pwsh
# scripts, installer, MySQL, seeds), the long fleet, fault and reliability runs (the same plugin code through the
# same contract). One process: for this short run two xdist workers cost more than they save (measured: 76 s in one
# process, 91 s with -n 2 for 1118 tests), and it runs next to the first lane's pytest anyway.
LATER_LANE_TESTS=(
    tests/unit/plugins # the action plugins on this ActionBase, filters, ansible-doc, routing; the domain on this Python
    # the lab's side of what ansible-core and ansible.windows send: payloads, the modules' specs, pywinrm, put_file
    tests/lab/test_payload.py tests/lab/test_dispatch.py tests/lab/test_winmodules.py tests/lab/test_wsman.py
    tests/lab/test_argspec.py tests/lab/test_link.py tests/lab/test_cli.py
    tests/integration/test_lab_acceptance.py tests/integration/test_info_lab.py
    tests/integration/test_install_lab.py::test_install_converges_then_one_call_and_no_secret_anywhere
    # ...but not the tests in those paths that run neither ansible-core nor ansible.windows (the same argument):
    # probe.ps1's passphrase check run under pwsh alone, the pwsh parser on a module the test
    # writes, the lab CLI's own up/down/fault and installer commands (the lab on this Python: every other lab test here)
    --ignore=tests/unit/plugins/action/test_probe_passphrase_file.py
    --deselect=tests/lab/test_argspec.py::test_declarations_are_read_with_pwsh_parser
    --deselect=tests/lab/test_cli.py::test_up_status_fault_reset_down_leaves_no_process_or_port
    --deselect=tests/lab/test_cli.py::test_up_twice_replaces_the_running_server
    --deselect=tests/lab/test_cli.py::test_installer_bad_out_or_version_is_one_line_error
    --deselect=tests/lab/test_cli.py::test_installer_writes_the_package
)
run_later_lane() {
    local lane="$1" pyver
    job_step "[$lane] virtualenv + pinned requirements (made in the background)" await_venv "$lane"
    [[ -z "${JOB_FAILED:-}" ]] || return 1
    use_lane "$lane"
    pyver="$(lane_pyver)"
    echo "lane $lane: $(python --version), $(ansible --version | head -n1)"
    job_step "[$lane] pwsh for the lab (python -m lab.pwsh)" python -m lab.pwsh
    job_step "[$lane] pytest (plugins, the lab's ansible side, acceptance over WinRM)" \
        run_pytest_one_process -p no:cacheprovider "${LATER_LANE_TESTS[@]}"
    run_artifact "$lane" "$pyver"
}

# --fast's pytest: every unit test (domain, plugins, the repository checks, the PowerShell check) and a lab smoke: the
# collection's real probe script under pwsh, sent by a real ansible-playbook over WinRM to the lab (one remote call)
FAST_TESTS=(tests/unit tests/integration/test_info_lab.py::test_info_is_one_remote_call_and_returns_the_seed)

FIRST_LANE=""
for lane in "${LANES[@]}"; do
    python="$(lane_python "$lane")"
    if [[ -z "$python" ]]; then
        if [[ "$lane" == 2.21 ]]; then
            skip "lane 2.21: no Python 3.12 found (pyenv install 3.12, or put python3.12 on PATH)"
        else
            skip "lane 2.19: no Python >= 3.11 found"
        fi
        continue
    fi
    if [[ -z "$FIRST_LANE" ]]; then
        FIRST_LANE="$lane"
    else
        job "lane-$lane" run_later_lane "$lane"
    fi
done
if [[ -n "$FIRST_LANE" ]]; then
    lane="$FIRST_LANE"
    if [[ -n "${VENV_JOBS[$lane]:-}" ]]; then
        wait "${VENV_JOBS[$lane]}" || true # a child of this shell, not of the step's subshell
        step "[$lane] virtualenv + pinned requirements (made in the background)" venv_result "$lane"
    else
        step "[$lane] virtualenv + pinned requirements" setup_venv "$lane" "$(lane_python "$lane")"
    fi
    use_lane "$lane"
    pyver="$(lane_pyver)"
    echo "lane $lane: $(python --version), $(ansible --version 2>/dev/null | sed -n 1p)"
    # the lab runs the collection's PowerShell under pwsh (ARCHITECTURE.md decision 8): say which one, or fail here
    # saying what to install (ASR_PWSH, then PATH, then ../shared/toolchain/pwsh)
    step "[$lane] pwsh for the lab (python -m lab.pwsh)" python -m lab.pwsh
    if ((FAST)); then
        job checks run_fast_checks "$lane"
        step "[$lane] pytest (--fast: unit tests + lab smoke)" run_pytest "${FAST_TESTS[@]}"
    else
        job checks run_checks "$lane"
        job lab-runs run_lab_runs "$lane"
        job "artifact-$lane" run_artifact "$lane" "$pyver"
        DEFAULT_WORKERS=4 step "[$lane] pytest" run_pytest
    fi
fi
join_jobs
if ((FAST)); then
    skip "docs lint, Pester, ansible-lint, EE, molecule, benchmark, Galaxy build, sanity, the rest of pytest (--fast)"
fi
CURRENT=""
