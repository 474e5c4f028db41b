"""tests/conftest.py hands the longest test files to the pytest-xdist workers first (docs/dev/test-time.md)."""

from __future__ import annotations

from tests import conftest


def test_every_file_named_longest_exists_and_is_listed_longest_first():
    paths = [path for path, _seconds in conftest.LONGEST_FILES]
    assert len(set(paths)) == len(paths)
    assert all((conftest.REPO_ROOT / path).is_file() for path in paths), [
        path for path in paths if not (conftest.REPO_ROOT / path).is_file()
    ]
    seconds = [seconds for _path, seconds in conftest.LONGEST_FILES]
    assert seconds == sorted(seconds, reverse=True)


class _Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def test_the_longest_files_come_first_and_the_rest_keep_their_order():
    longest = conftest.LONGEST_FILES[0][0]
    items = [_Item(n) for n in ("tests/unit/a.py::t1", f"{longest}::t2", "tests/lab/b.py::t3", f"{longest}::t1")]
    conftest.pytest_collection_modifyitems(None, None, items)
    assert [i.nodeid for i in items] == [
        f"{longest}::t2",
        f"{longest}::t1",
        "tests/unit/a.py::t1",
        "tests/lab/b.py::t3",
    ]
