"""ASR build numbers ``9.<minor>.<build>.<rev>`` and the upgrade rules on them.

[4] DOC/SRC: PS <= CS; N-4 rule enforced on the minor version ("new minor - installed minor > 4 => Unsupported").
The reference has no list of real build numbers ("Latest classic build number/version list not collected"): the
versions the lab's seeds use (e.g. 9.55.7123.1) are LAB-INVENTED in that format.
"""

from __future__ import annotations

import re

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def parse(version: str) -> tuple[int, int, int, int]:
    text = str(version).strip()
    if not _VERSION_RE.match(text):
        raise ValueError(f"not an ASR build number (9.<minor>.<build>.<rev>): {version!r}")
    a, b, c, d = (int(x) for x in text.split("."))
    return a, b, c, d


def minor(version: str) -> int:
    return parse(version)[1]
