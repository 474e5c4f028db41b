# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for pypa's get-pip.py, for ansible-test's virtual-environment bootstrap.

ansible-test bootstraps pip into each sanity test's virtual environment by running
``~/.ansible/test/cache/get_pip_<pip version>.py`` (downloaded from ci-files.testing.ansible.com when
absent, a host CI cannot reach). scripts/test.sh copies this file there instead. It bootstraps pip with
the interpreter's own ``ensurepip`` and then runs ``python -m pip install`` with the arguments
ansible-test gave (for example ``--disable-pip-version-check pip==24.2``); the get-pip-only options
``--no-setuptools`` / ``--no-wheel`` are dropped because pip itself does not know them.
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
