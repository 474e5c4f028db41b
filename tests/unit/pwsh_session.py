"""One long-lived pwsh for a test module (tests/powershell/tools/session.ps1): a JSON line in, a JSON line out.

Starting pwsh costs about a second; generated cases (hypothesis) go through the same process one after another.
No pwsh is a failure, never a skip (scripts/check_powershell.py's find_pwsh says how to provide one).
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
SESSION = ROOT / "tests" / "powershell" / "tools" / "session.ps1"


def find_pwsh() -> str:
    name = "check_powershell"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "check_powershell.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module.find_pwsh(ROOT)[0]


class PwshSession:
    """``many_calls``: the session will run the same code very often (generated cases), so .NET's tiered JIT is
    turned off: its code is compiled optimised once instead of twice (the quoting properties: 5 s of CPU instead of
    8 s). A session for a few requests keeps it on, which starts ~1 s cheaper (docs/dev/test-time.md)."""

    def __init__(self, pwsh: str | None = None, *, many_calls: bool = False) -> None:
        command = [pwsh or find_pwsh(), "-NoProfile", "-NonInteractive", "-File", str(SESSION)]
        env = dict(os.environ)
        if many_calls:
            env.setdefault("DOTNET_TieredCompilation", "0")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )

    def request(self, op: str, **fields: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"the pwsh session ended (exit {self.process.wait()}): {stderr}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise RuntimeError(f"pwsh session: {op}: {answer['error']}")
        return answer["value"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
