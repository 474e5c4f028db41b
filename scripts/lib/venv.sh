# shellcheck shell=bash
# Virtualenv per Ansible lane, shared by scripts/test.sh (the tests) and scripts/demo.sh (the main job).
# Needs $ROOT (the repository root) and runs from it.
#   lane 2.19: ansible-core 2.19 on Python 3.11 (.venv, requirements/dev.txt)
#   lane 2.21: ansible-core 2.21 on Python 3.12 (.venv-2.21, requirements/dev-2.21.txt)

lane_python() { # print the interpreter for a lane, or nothing
    case "$1" in
        2.19)
            local py
            for py in python3.11 python3; do
                if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
                    command -v "$py"
                    return
                fi
            done ;;
        2.21)
            local v
            if command -v pyenv >/dev/null; then
                v="$(pyenv versions --bare --skip-aliases 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V | tail -n1 || true)"
                if [[ -n "$v" && -x "$(pyenv root)/versions/$v/bin/python" ]]; then
                    echo "$(pyenv root)/versions/$v/bin/python"
                    return
                fi
            fi
            for v in /root/.pyenv/versions/3.12*/bin/python python3.12; do
                if command -v "$v" >/dev/null 2>&1; then
                    command -v "$v"
                    return
                fi
            done ;;
    esac
}

lane_venv() { [[ "$1" == 2.19 ]] && echo "$ROOT/.venv" || echo "$ROOT/.venv-$1"; }
lane_requirements() { [[ "$1" == 2.19 ]] && echo requirements/dev.txt || echo "requirements/dev-$1.txt"; }

# Byte-compile what Python imports from the venv, as pip would have done, except ansible_collections/: the "ansible"
# package ships about 13,600 .py files there (every collection of the Ansible package; the tests use ansible.windows)
# and ansible-core's collection loader compiles a collection's Python from its source on every import and never
# reads a .pyc (ansible/utils/collection_loader/_collection_finder.py, get_code), so compiling them is pure cost:
# about 20 s of CPU per fresh venv (docs/dev/test-time.md). A file that does not compile (some packages carry
# Python 2 test data) is left to pip's own rule: ignored, as pip ignores it.
compile_venv() {
    "$1/bin/python" -m compileall -qq -x '/site-packages/ansible_collections/' "$1/lib" >/dev/null 2>&1 || true
}

# Create/reuse the lane's virtualenv and install its pins; skip pip when the requirement files did not
# change since the last successful install (stamp inside the venv).
setup_venv() {
    local lane="$1" python="$2" venv req want stamp
    venv="$(lane_venv "$lane")"
    req="$(lane_requirements "$lane")"
    want="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    if [[ -x "$venv/bin/python" ]] && [[ "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$want" ]]; then
        echo "$venv uses another Python than $want; recreating it"
        rm -rf "$venv"
    fi
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "creating $venv with $python (Python $want)"
        "$python" -m venv "$venv"
    fi
    stamp="$(cat requirements/uv.txt requirements/common.txt requirements/azure.txt "$req" | sha256sum | cut -d' ' -f1) $want"
    if [[ -f "$venv/.requirements-stamp" && "$(cat "$venv/.requirements-stamp")" == "$stamp" ]]; then
        echo "requirements unchanged since last install ($req); not calling pip"
        return 0
    fi
    echo "installing $req into $venv (uv pip; log: $venv/pip-install.log)"
    # pip installs uv (pinned in requirements/uv.txt), uv the lane's pins: in a clean clone the lane 2.19 venv is on
    # the critical path of scripts/test.sh, and uv halves it (39 -> 19 s, 27 -> 17 s of CPU; docs/dev/test-time.md).
    # uv reads PyPI directly (not pip's configuration) and writes no .pyc, as --no-compile did.
    if ! { "$venv/bin/python" -m pip install -q --no-compile --disable-pip-version-check -r requirements/uv.txt &&
        "$venv/bin/uv" pip install -q --python "$venv/bin/python" -r "$req"; } >"$venv/pip-install.log" 2>&1; then
        grep -v "is ignored: it is neither a file nor a directory" "$venv/pip-install.log" | tail -n 40
        return 1
    fi
    compile_venv "$venv"
    "$venv/bin/python" -m pip check >/dev/null || { "$venv/bin/python" -m pip check; return 1; }
    echo "$stamp" >"$venv/.requirements-stamp"
}
