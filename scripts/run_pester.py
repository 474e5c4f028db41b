#!/usr/bin/env python3
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the Pester tests of tests/powershell in ONE pwsh (scripts/test.sh's Pester step).

pwsh is found as the PowerShell check finds it (``ASR_PWSH``, then ``PATH``, then ``shared/toolchain/pwsh``); without
one this fails (exit 2) and says how to get one. ``python scripts/run_pester.py [PATH...]`` runs only those test
files. Exit status: pwsh's (0 when tests ran and all passed).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from check_powershell import pwsh_or_say

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "powershell" / "run.ps1"


def main(argv: list[str]) -> int:
    found = pwsh_or_say("run_pester", ROOT)
    if found is None:
        return 2
    pwsh, how = found
    print(f"run_pester: pwsh {pwsh} (from {how})", flush=True)
    command = [pwsh, "-NoProfile", "-NonInteractive", "-File", str(RUNNER)]
    if argv[1:]:
        command += ["-Path", ";".join(str(pathlib.Path(p).resolve()) for p in argv[1:])]
    # one long pwsh run: without .NET tiered JIT the 157 tests took 30 s of CPU, not 40 s (docs/dev/test-time.md)
    env = {**os.environ}
    env.setdefault("DOTNET_TieredCompilation", "0")
    return subprocess.run(command, check=False, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
