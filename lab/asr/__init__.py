"""ASR executables and cmdlets as ``../shared/reference/asr-process-server.md`` describes them.

Importing the package registers every emulated executable with ``lab.programs`` (by file name) and the
cmdlets with ``lab.programs.run_cmdlet``. Each behaviour cites the reference section it follows.
"""

from lab.asr import constants  # noqa: F401

_MODULES = ("services", "installer", "cdpcli", "mars", "uninstall", "cs", "mysql", "build")


def _register() -> None:
    import importlib

    for name in _MODULES:
        try:
            importlib.import_module(f"lab.asr.{name}")
        except ModuleNotFoundError as exc:  # pieces land one commit at a time
            if exc.name != f"lab.asr.{name}":
                raise


_register()
