# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one setup path of install and upgrade: a typed request of Unified Setup runs in, a typed outcome out.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

An install is one run, an upgrade one run per hop (N-4 [4]); both may reboot first (a pending reboot, ``reboot:
true``), may stage a package to learn its version before they decide, and then run the same sequence for each run:
stage its package when it must be transferred, start setup detached, poll it, clean up (:class:`SetupRunner`),
judge the exit code (:mod:`setup_outcome`), reboot after 3010 when allowed -- else stop there and say a reboot is
required --, and verify the build, the registration and the services. :class:`SetupExecutor` does that; the
operations (``install.py``, ``upgrade.py``) only plan and turn its :class:`SetupDone` into their results.

A failure of any step leaves the executor as an :class:`ActionFailure` that says which steps ran before it
(``changed``, ``steps``) and the version the host had (``version_before``), added in ONE place (``_failures``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

from ..domain import upgrade_plan
from ..domain.install_plan import REBOOT_AFTER, REBOOT_BEFORE, STAGE, Installer, Plan
from ..domain.playbook_variables import both
from ..domain.probe import ProbedHost, ProbeRequest
from ..domain.setup_outcome import verify
from ..domain.steps import planned as planned_steps
from ..domain.versions import parse_version
from .action_base import ActionFailure, AsrActionBase
from .setup import SetupRunner, SetupSettings


@dataclass(frozen=True)
class SetupHop:
    """One Unified Setup run: an install, or one ``/Upgrade`` hop.

    ``version``: the build it leaves (None: not known, the install's package read nowhere); ``upgrade_from``: the
    build an upgrade hop starts from (None for an install); ``stage_step``: the package is transferred first, under
    that step name; ``secrets``: secret file name -> content for the run folder (``run_dir``, made by the caller
    when ``argv`` names files in it).
    """

    installer: Installer
    argv: tuple[str, ...]
    version: str | None
    run_step: str
    cleanup_step: str
    upgrade_from: str | None = None
    stage_step: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    run_dir: str | None = None
    install_location: str = ""

    @property
    def operation(self) -> str:
        """How messages name this run."""
        return "install" if self.upgrade_from is None else f"upgrade {self.upgrade_from} -> {self.version}"


@dataclass(frozen=True)
class SetupDone:
    """What the executor did: the steps that ran, the build the host is at, and the last run's verdict."""

    steps: list[dict[str, Any]]
    changed: bool
    version_after: str | None
    reboot_required: bool = False
    exit_code: int | None = None
    exit_code_name: str | None = None
    polls: int | None = None
    poll_retries: int | None = None
    setup_msg: str = ""
    # The host as setup's last cleanup call read it (None: not asked, a reboot followed, or the read failed).
    read_after: ProbedHost | None = None

    def result_fields(self, plan: Plan) -> dict[str, Any]:
        """What install and upgrade return once their setup path ran: its steps, the build the host is at, the last
        run's verdict, and from ``plan`` (the last one made: again after staging when the version was not known) the
        installer's version and its reason as the message (the staged package showed there is nothing to run; the
        operation says what a run did instead)."""
        return {
            "changed": self.changed,
            "steps": self.steps,
            "version_after": self.version_after,
            "installer_version": plan.installer_version,
            "reboot_required": self.reboot_required,
            "msg": plan.reason,
            **self.run_fields(),
        }

    def run_fields(self) -> dict[str, Any]:
        """The last run's verdict as the modules return it (nothing when no run was started)."""
        if self.exit_code_name is None:
            return {}
        return {
            "exit_code": self.exit_code,
            "exit_code_name": self.exit_code_name,
            "polls": self.polls,
            "poll_retries": self.poll_retries,
        }


class SetupExecutor:
    """Runs one task's setup steps on a host; remembers which ran, so every failure says so."""

    def __init__(
        self,
        action: AsrActionBase,
        task_vars: dict[str, Any],
        settings: SetupSettings,
        host: ProbedHost,
        *,
        version_before: str | None,
        role: str = upgrade_plan.PROCESS_SERVER,
        configuration_server_ip: str | None = None,
        after_probe: ProbeRequest | None = None,
    ) -> None:
        """``role``: which services a poll reads and verifies [6.3]; ``configuration_server_ip``: the registration
        an install verifies [1.3]; ``after_probe``: what setup's last cleanup call probes (``read_after``)."""
        self.action = action
        self.settings = settings
        self.role = role
        self.configuration_server_ip = configuration_server_ip
        self.version_before = version_before
        self.probed = host
        self.runner = SetupRunner(action, task_vars, settings, host, after_probe)
        self.runner.service_names = upgrade_plan.services_to_check(role)
        self.ran: list[str] = []

    @property
    def host(self) -> ProbedHost:
        """The probe, with what staging learnt of the package (``installer``) and a reboot done first."""
        return self.runner.host or self.probed

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        """The one place a failed step learns what ran before it."""
        try:
            yield
        except ActionFailure as exc:
            exc.detail.update(changed=bool(self.ran) or exc.detail.get("changed", False), steps=planned_steps(self.ran))
            exc.detail.setdefault("version_before", self.version_before)
            raise

    # ---- before anything is decided -------------------------------------------------------------------------------
    def reboot_first(self) -> None:
        """A reboot was pending: reboot (``reboot: true`` planned it) and go on as after a clean start."""
        with self._failures():
            self.runner.reboot("a reboot was pending before Unified Setup")
        self.ran.append(REBOOT_BEFORE)
        self.runner.host = replace(self.host, pending_reboot=False)

    def stage(self, installer: Installer, step: str | None = None) -> dict[str, Any]:
        """Put a package at its staging path to learn its version before deciding; its facts (``host`` knows them).

        ``step``: the step's name; None names it after the staged file's version.
        """
        with self._failures():
            facts = self.runner.stage(installer)
        self.ran.append(step or f"{STAGE} {facts.get('file_version')}")
        return facts

    def refuse(self, failure: str) -> NoReturn:
        """A plan made again after staging refuses: nothing but what ran before changed."""
        with self._failures():
            raise ActionFailure(failure, refusal=True)

    def nothing_to_run(self, version_after: str | None) -> SetupDone:
        """The plan made again after staging runs no setup (the staged package was all there was to do)."""
        return SetupDone(steps=planned_steps(self.ran), changed=bool(self.ran), version_after=version_after)

    def new_run_dir(self) -> str:
        """A fresh run folder for a run whose command line names its secret files (install's passphrase, proxy)."""
        return self.runner.new_run_dir()

    # ---- the runs -------------------------------------------------------------------------------------------------
    def run(self, hops: list[SetupHop]) -> SetupDone:
        """Each run in order; stops after a run that needs a reboot the task may not make (``reboot: false``)."""
        with self._failures():
            return self._run(hops)

    def _run(self, hops: list[SetupHop]) -> SetupDone:
        done = SetupDone(steps=[], changed=False, version_after=self.version_before)
        for index, hop in enumerate(hops):
            if hop.stage_step is not None:
                self._stage_hop(hop)
            done = self._run_one(hop)
            if done.reboot_required:
                if index < len(hops) - 1:
                    self.action._warn(
                        f"Unified Setup needs a reboot after the hop to {hop.version} (3010); reboot the host and run "
                        "the task again to continue, or set reboot: true."
                    )
                return done
        return done

    def _stage_hop(self, hop: SetupHop) -> None:
        facts = self.runner.stage(hop.installer)
        self.ran.append(hop.stage_step or "")
        if hop.version is not None and parse_version(facts.get("file_version") or "0.0") != parse_version(hop.version):
            raise ActionFailure(
                f"{both('installers')}: the file given for {hop.version} is version {facts.get('file_version')}; "
                "correct that entry's version or file."
            )

    def _run_one(self, hop: SetupHop) -> SetupDone:
        run, outcome = self.runner.run(
            run_dir=hop.run_dir,
            operation=hop.operation,
            package=hop.installer.remote_path,
            expected_sha256=hop.installer.sha256,
            argv=list(hop.argv),
            install_location=hop.install_location,
            secrets=dict(hop.secrets),
            version=hop.version,
            configuration_server_ip=self.configuration_server_ip,
        )
        self.ran += [hop.run_step, hop.cleanup_step]
        verdict = {
            "exit_code": outcome.rc,
            "exit_code_name": outcome.name,
            "polls": run.polls,
            "poll_retries": run.poll_retries,
        }
        if not outcome.success:
            raise ActionFailure(
                self._refused(hop, outcome.rc, outcome.msg, outcome.detail.get("remediation")),
                **{**outcome.detail, "polls": run.polls, "version_after": hop.upgrade_from},
            )
        poll = run.last_poll or {}
        if outcome.reboot_required:
            if not self.settings.reboot:
                version = (poll.get("csps") or {}).get("build_version") or hop.version
                return SetupDone(
                    planned_steps(self.ran),
                    True,
                    version,
                    reboot_required=True,
                    setup_msg=outcome.msg,
                    read_after=self.runner.post_state,
                    **verdict,
                )
            self.runner.reboot(f"Unified Setup exit code 3010 after the {hop.operation}")
            self.ran.append(REBOOT_AFTER)
            poll = self.runner.poll("")  # verify after the reboot: services back, build and registration
        self._verify(hop, poll, outcome.rc, rebooted=outcome.reboot_required)
        version = (poll.get("csps") or {}).get("build_version") or hop.version
        return SetupDone(
            planned_steps(self.ran),
            True,
            version,
            setup_msg=outcome.msg,
            read_after=self.runner.post_state,
            **verdict,
        )

    def _refused(self, hop: SetupHop, rc: int | None, msg: str, remediation: str | None) -> str:
        """Why setup failed; exit 203 on an upgrade is the N-4 rule, a downgrade or PS > CS [4]."""
        if rc != 203 or hop.upgrade_from is None:
            return msg
        return (
            f"Upgrade not supported: Unified Setup refused to upgrade {hop.upgrade_from} to {hop.version} (exit code "
            "203, UpgradeNotSupported). It refuses jumps of more than 4 minor versions (N-4 rule), downgrades and a "
            "process server newer than its configuration server [4]; the log tail says which. "
            + ("" if self.role == upgrade_plan.PROCESS_SERVER else "No process server was touched. ")
            + (remediation or "")
        )

    def _verify(self, hop: SetupHop, poll: dict[str, Any], rc: int | None, *, rebooted: bool) -> None:
        problems = verify(
            poll, version=hop.version, configuration_server_ip=self.configuration_server_ip, after_reboot=rebooted
        )
        if self.role == upgrade_plan.CONFIGURATION_SERVER:
            problems += upgrade_plan.configuration_server_problems(poll)
        if problems:
            name = upgrade_plan.ROLE_NAMES[self.role]
            raise ActionFailure(
                f"Unified Setup reported success ({hop.operation}) but the {name} is not healthy: "
                + "; ".join(problems)
                + ". Read the setup logs (log_tail) and the service states; start the services or run the task again.",
                log_tail=list((poll.get("setup_log") or {}).get("tail") or []),
                exit_code=rc,
            )
