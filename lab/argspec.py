"""Module argument validation as the real Windows module does it.

winrm-wire.md, "Fidelity traps": without validating arguments against the real module's DOCUMENTATION (as
Ansible.Basic does), a typo in an option name passes silently. So the option table comes from the installed
``ansible.windows`` DOCUMENTATION (plus the doc fragments it extends), and what only the module's ``.ps1``
declares (``no_log``, ``mutually_exclusive``, ``required_one_of``, ``required_together``, ``required_if``,
``required_by``, ``supports_check_mode``, undocumented internal options such as ``_raw_params``) is read from
its ``$spec`` literal, with PowerShell's own parser (``lab/powershell/argspec.ps1`` under pwsh, which the lab needs
anyway; its result is kept on disk per ansible.windows version, so it costs one pwsh run per checkout).

Two validation styles exist on a real host, and both are emulated:

* ``basic`` -- modules built on ``Ansible.Basic.AnsibleModule`` (ansible-core
  ``module_utils/csharp/Ansible.Basic.cs``): unknown options fail, types are coerced, choices/required/
  aliases/defaults are applied, every option appears in ``invocation.module_args`` (null when unset);
* ``legacy`` -- modules on ``Ansible.ModuleUtils.Legacy`` (``Parse-Args`` / ``Get-AnsibleParam``): unknown
  options are *not* rejected, no ``invocation`` is returned, each option is read by the module itself
  (:func:`legacy_param`), and check mode is refused with a message that does not name the module.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import pathlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def _windows_collection_dir() -> pathlib.Path:
    import ansible_collections.ansible.windows as windows  # the installed collection (ansible package)

    return pathlib.Path(next(iter(windows.__path__)))


def _core_doc_fragments_dir() -> pathlib.Path:
    import ansible.plugins.doc_fragments as fragments

    return pathlib.Path(next(iter(fragments.__path__)))


# ---- module styles (read from each .ps1's #Requires / AnsibleModule::Create) -------------------------------
LEGACY = "legacy"
BASIC = "basic"


class ModuleFailure(Exception):
    """What a module prints when it fails before (or while) doing its work: ``{"failed": true, "msg"...}``."""

    def __init__(self, msg: str, **result: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


class ModuleSkipped(Exception):
    """Check mode requested on a module that does not support it (the module exits with ``skipped``)."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result["msg"])
        self.result = result


@dataclass
class Option:
    name: str
    type: str = "str"
    elements: str | None = None
    choices: list[Any] = field(default_factory=list)
    default: Any = None
    aliases: list[str] = field(default_factory=list)
    required: bool = False
    no_log: bool = False
    options: dict[str, Option] | None = None  # sub options (type dict / list of dict)
    spec: dict[str, Any] = field(default_factory=dict)  # the sub-spec's constraints


@dataclass
class ModuleSpec:
    name: str  # short name, e.g. "win_copy"
    style: str  # BASIC or LEGACY
    options: dict[str, Option]
    mutually_exclusive: list[list[str]] = field(default_factory=list)
    required_one_of: list[list[str]] = field(default_factory=list)
    required_together: list[list[str]] = field(default_factory=list)
    required_if: list[list[Any]] = field(default_factory=list)
    required_by: dict[str, Any] = field(default_factory=dict)
    supports_check_mode: bool = False


# ---- the .ps1 declarations, read with PowerShell's own parser ---------------------------------------------------
class Opaque:
    """A PowerShell expression that is not a constant (a variable, ``$x.Keys + 'auto'`` ...): not evaluated."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Opaque({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


# lab/powershell/argspec.ps1 parses the module scripts with pwsh's parser (the reference for what PowerShell text
# means) and turns the $spec literals into JSON. Its output depends only on the files it reads and on itself, so it
# is kept on disk under a name made from their content: one pwsh run per ansible.windows version and checkout, and
# every lab process after that (each test worker, each `python -m lab serve`) only reads the JSON.
EXTRACTOR = pathlib.Path(__file__).with_name("powershell") / "argspec.ps1"
CACHE_DIR = pathlib.Path(__file__).resolve().parents[1] / ".cache" / "lab"  # git-ignored, outside the artifact
CACHE_ENV = "ASR_LAB_CACHE"
EXTRACT_TIMEOUT_S = 300.0


class DeclarationsUnreadable(RuntimeError):
    """pwsh could not read the modules' declarations (the message says why and shows pwsh's output)."""


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if list(value) == ["__opaque__"]:
            return Opaque(str(value["__opaque__"]))
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _web_request_psm1() -> pathlib.Path:
    return _windows_collection_dir() / "plugins" / "module_utils" / "WebRequest.psm1"


def _cache_file(modules_dir: pathlib.Path) -> pathlib.Path:
    digest = hashlib.sha256(EXTRACTOR.read_bytes())
    for path in [*sorted(modules_dir.glob("*.ps1")), _web_request_psm1()]:
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"")
    version = _windows_version()
    directory = pathlib.Path(os.environ.get(CACHE_ENV) or CACHE_DIR)
    return directory / f"argspec-ansible.windows-{version}-{digest.hexdigest()[:16]}.json"


def _windows_version() -> str:
    import json

    try:
        manifest = json.loads((_windows_collection_dir() / "MANIFEST.json").read_text(encoding="utf-8"))
        return str(manifest["collection_info"]["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"


def extract_declarations(modules_dir: pathlib.Path, web_request_psm1: pathlib.Path | None) -> dict[str, Any]:
    """Run argspec.ps1 under pwsh on every ``*.ps1`` of ``modules_dir`` (no cache): its JSON document."""
    import json
    import subprocess

    from lab import pwsh

    executable = pwsh.find()
    cmd = [executable.path, "-NoLogo", "-NoProfile", "-NonInteractive", "-File", str(EXTRACTOR)]
    cmd += ["-ModulesDir", str(modules_dir)]
    if web_request_psm1 is not None:
        cmd += ["-WebRequestPsm1", str(web_request_psm1)]
    env = {**os.environ, "POWERSHELL_TELEMETRY_OPTOUT": "1", "POWERSHELL_UPDATECHECK": "Off", "DOTNET_NOLOGO": "1"}
    # read-only: parses files, evaluates nothing
    proc = subprocess.run(
        cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=EXTRACT_TIMEOUT_S, check=False
    )
    if proc.returncode != 0:
        raise DeclarationsUnreadable(
            f"lab: {executable.describe()} could not read the module declarations in {modules_dir} "
            f"(exit {proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}"
        )
    document = json.loads(proc.stdout)
    if document.get("errors"):
        raise DeclarationsUnreadable(f"lab: PowerShell's parser rejected {document['errors']} in {modules_dir}")
    return document


@functools.cache
def _declarations() -> dict[str, Any]:
    """Every installed ansible.windows module's ``$spec`` and Parse-Args check mode, from the cache or pwsh."""
    import fcntl
    import json

    modules_dir = _windows_collection_dir() / "plugins" / "modules"
    cache = _cache_file(modules_dir)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.with_suffix(".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent lab processes: one runs pwsh, the others read its result
        if not cache.exists():
            document = extract_declarations(modules_dir, _web_request_psm1())
            partial = cache.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(document), encoding="utf-8")
            os.replace(partial, cache)
    return _from_json(json.loads(cache.read_text(encoding="utf-8")))


# ---- loading the real module's declarations -----------------------------------------------------------------
def _module_files(short: str) -> tuple[pathlib.Path, pathlib.Path]:
    modules = _windows_collection_dir() / "plugins" / "modules"
    ps1 = modules / f"{short}.ps1"
    doc = modules / f"{short}.py"
    if not doc.exists():
        doc = modules / f"{short}.yml"
    if not ps1.exists():
        raise KeyError(short)
    return ps1, doc


def _documentation(doc_path: pathlib.Path) -> dict[str, Any]:
    text = doc_path.read_text(encoding="utf-8")
    if doc_path.suffix == ".yml":
        return yaml.safe_load(text)["DOCUMENTATION"]
    match = re.search(r"^DOCUMENTATION\s*=\s*r?(['\"]{3})(.*?)\1", text, re.S | re.M)
    if not match:
        raise ValueError(f"{doc_path} has no DOCUMENTATION")
    return yaml.safe_load(match.group(2))


def _fragment_options(name: str) -> dict[str, Any]:
    """Options a doc fragment adds (``ansible.windows.web_request``; core fragments add only attributes)."""
    if "." in name and name.count(".") >= 2:
        _ns, _coll, frag = name.split(".", 2)
        path = _windows_collection_dir() / "plugins" / "doc_fragments" / f"{frag.split('.')[0]}.py"
    else:
        path = _core_doc_fragments_dir() / f"{name.split('.')[0]}.py"
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    attr = name.split(".")[-1].upper() if name.count(".") in (1, 3) else "DOCUMENTATION"
    match = re.search(rf"^\s*{attr}\s*=\s*r?(['\"]{{3}})(.*?)\1", text, re.S | re.M)
    if not match:
        return {}
    return (yaml.safe_load(match.group(2)) or {}).get("options") or {}


def _ps1_spec(short: str, ps1_text: str) -> tuple[str, dict[str, Any]]:
    """(style, spec) of a module script."""
    declared = _declarations()["modules"].get(short) or {}
    spec = copy.deepcopy(declared.get("spec"))  # the merge below must not change the shared declarations
    if "Ansible.Basic" not in ps1_text or not isinstance(spec, dict):
        return LEGACY, {}
    if "Get-AnsibleWindowsWebRequestSpec" in ps1_text:
        # WebRequest.psm1 Get-AnsibleWindowsWebRequestSpec: merged as a fragment (Ansible.Basic MergeFragmentSpec)
        frag = _declarations().get("web_request_spec") or {}
        for key, value in frag.get("options", {}).items():
            spec.setdefault("options", {}).setdefault(key, value)
    return BASIC, spec


def _as_list(value: Any) -> list[Any]:
    if value is None or isinstance(value, Opaque):
        return []
    return value if isinstance(value, list) else [value]


def _build_option(name: str, doc: dict[str, Any] | None, ps: dict[str, Any] | None) -> Option:
    doc = doc or {}
    ps = ps or {}

    def pick(key: str, default: Any = None) -> Any:
        # The .ps1 $spec is what Ansible.Basic validates against (choice order in messages included); the
        # DOCUMENTATION fills what the reader cannot evaluate ($uint32Type, $providerInfo.Keys + "auto").
        value = ps.get(key)
        if key in ps and not isinstance(value, Opaque):
            return value
        return doc.get(key, default)

    type_ = pick("type", "str")
    if isinstance(ps.get("type"), Opaque) and "type" not in doc:
        type_ = "raw"
    sub_doc = doc.get("suboptions") or {}
    sub_ps = ps.get("options") if isinstance(ps.get("options"), dict) else {}
    sub: dict[str, Option] | None = None
    if sub_doc or sub_ps:
        sub = {k: _build_option(k, sub_doc.get(k), sub_ps.get(k)) for k in _ordered(sub_ps, sub_doc)}
    return Option(
        name=name,
        type=type_,
        elements=pick("elements"),
        choices=_as_list(pick("choices")),
        default=pick("default"),
        aliases=_as_list(pick("aliases")),
        required=bool(pick("required", False)),
        no_log=bool(ps.get("no_log", False) is True),
        options=sub,
        spec={k: ps.get(k) for k in ("mutually_exclusive", "required_one_of", "required_together") if ps.get(k)},
    )


def _ordered(primary: dict[str, Any], secondary: dict[str, Any]) -> list[str]:
    return list(primary) + [k for k in secondary if k not in primary]


def _nested(value: Any) -> list[list[Any]]:
    """``@(, @('a', 'b'))`` and ``@('a', 'b')`` (a single group) both mean one group."""
    groups = _as_list(value)
    if groups and not any(isinstance(g, list) for g in groups):
        return [groups]
    return [g for g in groups if isinstance(g, list)]


@functools.cache
def module_spec(module: str) -> ModuleSpec:
    """The declared interface of an ``ansible.windows`` module (FQCN or short name)."""
    short = short_name(module)
    ps1_path, doc_path = _module_files(short)
    ps1_text = ps1_path.read_text(encoding="utf-8")
    style, ps = _ps1_spec(short, ps1_text)
    doc = _documentation(doc_path)
    doc_options = dict(doc.get("options") or {})
    for fragment in doc.get("extends_documentation_fragment") or []:
        for key, value in _fragment_options(fragment).items():
            doc_options.setdefault(key, value)
    ps_options = ps.get("options") or {}
    names = _ordered(ps_options, doc_options) if style == BASIC else list(doc_options)
    options = {k: _build_option(k, doc_options.get(k), ps_options.get(k)) for k in names}
    check_mode = ps.get("supports_check_mode", False)
    if style == LEGACY:
        # Legacy.psm1 Parse-Args -supports_check_mode $true|$false
        check_mode = (_declarations()["modules"].get(short) or {}).get("parse_args_check_mode") is True
    return ModuleSpec(
        name=short,
        style=style,
        options=options,
        mutually_exclusive=_nested(ps.get("mutually_exclusive")),
        required_one_of=_nested(ps.get("required_one_of")),
        required_together=_nested(ps.get("required_together")),
        required_if=[g for g in _as_list(ps.get("required_if")) if isinstance(g, list)],
        required_by=ps.get("required_by") or {},
        supports_check_mode=check_mode is True,
    )


def short_name(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def known_module(module: str) -> bool:
    try:
        _module_files(short_name(module))
    except KeyError:
        return False
    return True


def no_log_options(module: str) -> list[str]:
    """Names of the options (and sub-options, dotted) whose values the module keeps out of its output."""
    spec = module_spec(module)
    found: list[str] = []

    def walk(options: dict[str, Option], prefix: str) -> None:
        for option in options.values():
            if option.no_log:
                found.append(prefix + option.name)
            if option.options:
                walk(option.options, prefix + option.name + ".")

    walk(spec.options, "")
    return found


# ---- Ansible.Basic type conversion -------------------------------------------------------------------------
_BOOLEANS_TRUE = ["y", "yes", "on", "1", "true", "t", "1.0"]
_BOOLEANS_FALSE = ["n", "no", "off", "0", "false", "f", "0.0"]


def net_type_name(value: Any) -> str:
    """The .NET type a JSON value has inside the module (``$complex_args`` deserialised by PowerShell)."""
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if -(2**31) <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Decimal"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, list):
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return "System.Object"


def parse_str(value: Any) -> str:
    """Ansible.Basic ParseStr is ``value.ToString()``: .NET spells booleans ``True``/``False``."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return str(value)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = parse_str(value).lower().strip()
    if text in _BOOLEANS_TRUE:
        return True
    if text in _BOOLEANS_FALSE:
        return False
    raise ValueError(
        f"The value '{text}' is not a valid boolean. Valid booleans include: "
        + ", ".join(_BOOLEANS_TRUE + _BOOLEANS_FALSE)
    )


def parse_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = parse_str(value)
    if not re.fullmatch(r"\s*[+-]?\d+\s*", text):
        raise ValueError("Input string was not in a correct format.")
    number = int(text)
    if not -(2**31) <= number < 2**31:
        raise ValueError("Value was either too large or too small for an Int32.")
    return number


def parse_float(value: Any) -> float:
    try:
        return float(parse_str(value))
    except ValueError:
        raise ValueError("Input string was not in a correct format.") from None


def parse_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [s.strip() for s in value.split(",")]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    raise ValueError(f"{net_type_name(value)} cannot be converted to a list")


def parse_dict(value: Any) -> dict[str, Any]:
    import json

    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}"):
            return json.loads(value)
        if "=" in value:
            fields: list[str] = []
            buf = ""
            quote = None
            escape = False
            for char in value:
                if escape:
                    buf += char
                    escape = False
                elif char == "\\":
                    escape = True
                elif quote is None and char in "'\"":
                    quote = char
                elif quote is not None and char == quote:
                    quote = None
                elif quote is None and char in ", ":
                    if buf:
                        fields.append(buf)
                    buf = ""
                else:
                    buf += char
            if buf:
                fields.append(buf)
            out: dict[str, Any] = {}
            for item in dict.fromkeys(fields):
                key, sep, val = item.partition("=")
                out[key] = val if sep else None
            return out
        raise ValueError("string cannot be converted to a dict, must either be a JSON string or in the key=value form")
    raise ValueError(f"{net_type_name(value)} cannot be converted to a dict")


def parse_path(value: Any, env: dict[str, str] | None = None) -> str:
    text = parse_str(value)
    if text.startswith("\\\\?\\"):
        return text
    text = expand_environment(text, env or {})
    if any(c in text for c in '<>"|\0'):
        raise ValueError("string value contains invalid path characters, cannot convert to path")
    return text


def parse_json(value: Any) -> str:
    import json

    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, str):
        return value
    raise ValueError(f"{net_type_name(value)} cannot be converted to json")


def expand_environment(text: str, env: dict[str, str]) -> str:
    """``[Environment]::ExpandEnvironmentVariables``: ``%NAME%`` replaced when defined, kept otherwise."""
    lowered = {k.lower(): v for k, v in env.items()}

    def repl(match: re.Match[str]) -> str:
        return lowered.get(match.group(1).lower(), match.group(0))

    return re.sub(r"%([^%]+)%", repl, text)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "str": parse_str,
    "bool": parse_bool,
    "int": parse_int,
    "float": parse_float,
    "list": parse_list,
    "dict": parse_dict,
    "json": parse_json,
}


def _convert(type_: str, value: Any, env: dict[str, str]) -> Any:
    if type_ == "path":
        return parse_path(value, env)
    parser = _PARSERS.get(type_)
    return value if parser is None else parser(value)  # raw, sid and delegates are passed through


# ---- Ansible.Basic CheckArguments ----------------------------------------------------------------------------
@dataclass
class Validated:
    params: dict[str, Any]  # what the module works with (aliases resolved, defaults, types, null-filled)
    invocation: dict[str, Any] | None  # ``{"module_args": ...}`` with no_log values removed (basic style)
    no_log_values: set[str]
    module_name: str
    check_mode: bool
    diff: bool


class _Checker:
    def __init__(self, module_name: str, env: dict[str, str]) -> None:
        self.module_name = module_name
        self.env = env
        self.context: list[str] = []
        self.no_log_values: set[str] = set()

    def fail(self, msg: str) -> None:
        if self.context:
            msg += " found in " + " -> ".join(self.context)
        raise ModuleFailure(msg)

    def aliases(self, options: dict[str, Option], params: dict[str, Any]) -> list[str]:
        # Ansible.Basic GetAliases: the alias stays in the params next to the canonical name
        found = []
        for option in options.values():
            for alias in option.aliases:
                found.append(alias)
                if alias in params:
                    params[option.name] = params[alias]
        return found

    def set_no_log(self, options: dict[str, Option], params: dict[str, Any]) -> None:
        for option in options.values():
            if option.no_log and params.get(option.name) not in (None, ""):
                self.no_log_values.add(parse_str(params[option.name]))

    def check(
        self,
        options: dict[str, Option],
        constraints: dict[str, Any],
        params: dict[str, Any],
        legal: list[str],
        *,
        check_mode: bool = False,
        supports_check_mode: bool = True,
    ) -> None:
        # CheckUnsupportedArguments: case-insensitive match, then renamed to the spec's case
        unsupported = [k for k in params if k.lower() not in {x.lower() for x in legal}]
        if unsupported:
            shown = [x for x in legal if not x.startswith("_ansible_")]
            msg = f"Unsupported parameters for ({self.module_name}) module: {', '.join(unsupported)}"
            if self.context:
                msg += " found in " + " -> ".join(self.context)
            raise ModuleFailure(f"{msg}. Supported parameters include: {', '.join(shown)}")
        for key in [k for k in params if k not in legal]:
            correct = next(x for x in legal if x.lower() == key.lower())
            params[correct] = params.pop(key)
        if check_mode and not supports_check_mode and not self.context:
            msg = f"remote module ({self.module_name}) does not support check mode"
            raise ModuleSkipped({"changed": False, "skipped": True, "msg": msg})
        for group in constraints.get("mutually_exclusive") or []:
            if sum(1 for k in group if k in params) > 1:
                self.fail(f"parameters are mutually exclusive: {', '.join(group)}")
        missing = []
        for option in options.values():
            if option.default is not None and option.name not in params:
                params[option.name] = option.default
            if option.required and option.name not in params:
                missing.append(option.name)
        if missing:
            self.fail(f"missing required arguments: {', '.join(missing)}")
        for option in options.values():
            value = params.get(option.name)
            if value is None:
                continue
            try:
                value = _convert(option.type, value, self.env)
            except (ValueError, TypeError) as exc:
                self.fail(
                    f"argument for {option.name} is of type {net_type_name(value)} and we were unable to "
                    f"convert to {option.type}: {exc}"
                )
            params[option.name] = value
            if option.choices:
                choices = [parse_str(c) for c in option.choices]
                values = [parse_str(v) for v in value] if option.type == "list" else [parse_str(value)]
                lowered = {c.lower() for c in choices}
                diff = [v for v in values if v.lower() not in lowered]
                if diff:
                    word = "one or more of" if option.type == "list" else "one of"
                    self.fail(
                        f"value of {option.name} must be {word}: {', '.join(choices)}. "
                        f"Got no match for: {', '.join(diff)}"
                    )
        for group in constraints.get("required_together") or []:
            present = [k in params for k in group]
            if any(present) and not all(present):
                self.fail(f"parameters are required together: {', '.join(group)}")
        for group in constraints.get("required_one_of") or []:
            if not any(k in params for k in group):
                self.fail(f"one of the following is required: {', '.join(group)}")
        for rule in constraints.get("required_if") or []:
            key, val, requirements = rule[0], rule[1], _as_list(rule[2])
            one = len(rule) > 3 and rule[3] is True
            if params.get(key) is None or parse_str(params[key]) != parse_str(val):
                continue
            missing = [r for r in requirements if r not in params]
            if len(missing) >= (len(requirements) if one else 1):
                term = "any" if one else "all"
                self.fail(f"{key} is {val} but {term} of the following are missing: {', '.join(missing)}")
        for key, requires in (constraints.get("required_by") or {}).items():
            if key not in params:
                continue
            missing = [r for r in _as_list(requires) if r not in params]
            if missing:
                self.fail(f"missing parameter(s) required by '{key}': {', '.join(missing)}")
        for option in options.values():
            params.setdefault(option.name, None)
            self.sub_options(option, params)

    def sub_options(self, option: Option, params: dict[str, Any]) -> None:
        value = params.get(option.name)
        if option.type == "list" and option.elements:
            if value is None:
                return
            converted = []
            for element in value:
                if option.elements == "dict":
                    converted.append(self.sub_spec(option, element))
                    continue
                try:
                    converted.append(_convert(option.elements, element, self.env))
                except (ValueError, TypeError) as exc:
                    self.fail(
                        f"argument for list entry {option.name} is of type {net_type_name(element)} and we were "
                        f"unable to convert to {option.elements}: {exc}"
                    )
            params[option.name] = converted
        elif option.type == "dict":
            params[option.name] = self.sub_spec(option, value)

    def sub_spec(self, option: Option, value: Any) -> Any:
        if not option.options or value is None:
            return value
        self.context.append(option.name)
        sub_params = dict(parse_dict(value))
        aliases = self.aliases(option.options, sub_params)
        self.set_no_log(option.options, sub_params)
        self.check(option.options, option.spec, sub_params, list(option.options) + aliases)
        self.context.pop()
        return sub_params


def remove_no_log_values(value: Any, no_log_values: set[str]) -> Any:
    """Ansible.Basic RemoveNoLogValues: exact matches become the placeholder, substrings are starred out."""
    if not no_log_values or value is None:
        return value
    if isinstance(value, dict):
        return {k: remove_no_log_values(v, no_log_values) for k, v in value.items()}
    if isinstance(value, list):
        return [remove_no_log_values(v, no_log_values) for v in value]
    if isinstance(value, (bool, int, float)):
        text = parse_str(value)
        if any(secret in text for secret in no_log_values):
            return NO_LOG_PLACEHOLDER
        return value
    text = str(value)
    if text in no_log_values:
        return NO_LOG_PLACEHOLDER
    for secret in no_log_values:
        if secret in text:
            return text.replace(secret, "********")
    return text


def validate(
    module: str,
    args: dict[str, Any],
    internal: dict[str, Any] | None = None,
    *,
    env: dict[str, str] | None = None,
) -> Validated:
    """Validate ``args`` as the real module's argument handling would; raises ModuleFailure / ModuleSkipped."""
    internal = internal or {}
    spec = module_spec(module)
    module_name = str(internal.get("_ansible_module_name") or spec.name)
    check_mode = parse_bool(internal.get("_ansible_check_mode", False))
    diff = parse_bool(internal.get("_ansible_diff", False))
    params = dict(args)
    if spec.style == LEGACY:
        if check_mode and not spec.supports_check_mode:
            # Legacy.psm1 Parse-Args
            raise ModuleSkipped({"skipped": True, "changed": False, "msg": "remote module does not support check mode"})
        return Validated(params, None, set(), module_name, check_mode, diff)
    checker = _Checker(module_name, env or {})
    aliases = checker.aliases(spec.options, params)
    checker.set_no_log(spec.options, params)
    constraints = {
        "mutually_exclusive": spec.mutually_exclusive,
        "required_one_of": spec.required_one_of,
        "required_together": spec.required_together,
        "required_if": spec.required_if,
        "required_by": spec.required_by,
    }
    try:
        checker.check(
            spec.options,
            constraints,
            params,
            list(spec.options) + aliases,
            check_mode=check_mode,
            supports_check_mode=spec.supports_check_mode,
        )
    except ModuleFailure as failure:
        # FailJson: msg scrubbed of no_log values; invocation holds the params as far as they got
        failure.msg = remove_no_log_values(failure.msg, checker.no_log_values)
        failure.result.setdefault("invocation", {"module_args": remove_no_log_values(params, checker.no_log_values)})
        raise
    except ModuleSkipped as skipped:
        skipped.result["invocation"] = {"module_args": remove_no_log_values(params, checker.no_log_values)}
        raise
    invocation = {"module_args": remove_no_log_values(params, checker.no_log_values)}
    return Validated(params, invocation, checker.no_log_values, module_name, check_mode, diff)


# ---- Legacy.psm1 Get-AnsibleParam ------------------------------------------------------------------------------
_MISSING = object()


def legacy_param(
    params: dict[str, Any],
    name: str,
    *,
    type: str | None = None,  # mirrors Get-AnsibleParam -type
    default: Any = None,
    failifempty: bool = False,
    validateset: list[str] | None = None,
    aliases: list[str] | None = None,
    env: dict[str, str] | None = None,
    resultobj: dict[str, Any] | None = None,
) -> Any:
    """Ansible.ModuleUtils.Legacy ``Get-AnsibleParam`` (messages and conversions as it has them)."""
    found = None
    for key in [name, *(aliases or [])]:
        if key in params:
            found = key
            break
    if found is None:
        if failifempty:
            raise ModuleFailure(f"Get-AnsibleParam: Missing required argument: {name}", **(resultobj or {}))
        value = default
    else:
        value = params[found]
        # PowerShell -contains is case-insensitive for strings
        if (
            validateset
            and value not in validateset
            and not (isinstance(value, str) and value.lower() in [v.lower() for v in validateset])
        ):
            raise ModuleFailure(
                f"Get-AnsibleParam: Argument {found} needs to be one of {','.join(validateset)} but was "
                f"{parse_str(value) if value is not None else ''}.",
                **(resultobj or {}),
            )
    if value is None:
        return None
    if type == "path":
        value = expand_environment(parse_str(value), env or {})
    elif type == "str":
        value = parse_str(value)
    elif type == "bool":
        value = value is True or parse_str(value).lower() in ("yes", "on", "1", "true")
    elif type == "int":
        try:
            value = int(parse_str(value))
        except ValueError:
            value = None
    elif type == "list":
        if isinstance(value, list):
            pass
        elif isinstance(value, str):
            value = [s.strip() for s in value.split(",")]
        elif isinstance(value, int):
            value = [value]
        else:
            raise ModuleFailure(f"Get-AnsibleParam: Parameter '{found}' is not a YAML list.", **(resultobj or {}))
    return value
