"""install_plan / upgrade_plan: the pure decisions, one test per probe situation."""

from __future__ import annotations

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import install_plan as ip
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import upgrade_plan as up
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import read_probe
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import parse_version as V
from tests.unit.setup_probes import CS_IP, NETWORK, fresh, installed, installer_facts

STAGED = r"C:\ProgramData\ASRSetupStaging\abababababababab\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
SHA = "ab" * 32


def local_installer(version="9.55.7123.1", sha=SHA):
    return ip.Installer(remote_path=STAGED, local_path="/media/setup.exe", version=V(version) if version else None,
                        sha256=sha)  # fmt: skip


def request(installer=None, **kw):
    return ip.InstallRequest(configuration_server_ip=CS_IP, install_location="D:\\",
                             installer=installer or local_installer(), **kw)  # fmt: skip


def plan(probe, **kw):
    return ip.plan_install(read_probe(probe), request(**kw))


def test_fresh_host_stages_runs_and_cleans_up():
    p = plan(fresh())
    assert p.failure is None and p.changed
    assert p.steps == [ip.STAGE, ip.RUN_INSTALL, ip.CLEANUP]
    assert p.version_before is None and p.version_after == "9.55.7123.1"


def test_fresh_host_with_the_installer_already_staged_does_not_copy_again():
    p = plan(fresh(installer=installer_facts(STAGED, sha256=SHA)))
    assert p.steps == [ip.RUN_INSTALL, ip.CLEANUP]


def test_staged_file_with_another_checksum_is_copied_again():
    p = plan(fresh(installer=installer_facts(STAGED, sha256="cd" * 32)))
    assert p.steps[0] == ip.STAGE


def test_installed_at_the_installers_version_is_nothing_to_do():
    p = plan(installed("9.55.7123.1"))
    assert p.failure is None and p.steps == [] and not p.changed
    assert "installer's version" in p.reason


def test_installed_older_points_to_the_upgrade_module():
    p = plan(installed("9.52.6801.1"))
    assert "asr.process_server.upgrade" in p.failure and "9.52.6801.1" in p.failure


def test_installed_newer_than_the_installer_is_left_alone_with_a_warning():
    p = plan(installed("9.56.7200.1"))
    assert p.failure is None and p.steps == [] and "older than the installed" in p.warnings[0]


def test_installed_and_registered_elsewhere_is_refused_with_what_to_do():
    # asr.process_server.registration refuses such a host too (it re-registers with the configured server only [3.3])
    p = plan(installed(registered_to="10.1.1.1"))
    assert "10.1.1.1" in p.failure and CS_IP in p.failure and "cspsconfigtool" in p.failure
    assert "asr.process_server.registration" not in p.failure


def test_a_configuration_server_is_refused():
    p = plan(installed(cx_type="3"))
    assert "configuration server" in p.failure


def test_converged_host_does_not_need_privilege():
    assert plan(installed(identity=NETWORK)).failure is None


def test_network_logon_is_refused_with_the_become_lines():
    p = plan(fresh(identity=NETWORK))
    assert "network logon" in p.failure and "become_user: SYSTEM" in p.failure


def test_not_elevated_is_refused():
    p = plan(fresh(identity={"name": "PS01\\op", "is_system": False, "elevated": False, "network_logon": False}))
    assert "not an elevated local administrator" in p.failure


def test_pending_reboot_is_refused_without_reboot():
    p = plan(fresh(pending=True))
    assert "reboot is pending" in p.failure and "reboot: true" in p.failure


def test_pending_reboot_with_reboot_true_reboots_first():
    p = plan(fresh(pending=True), reboot=True)
    assert p.steps[0] == ip.REBOOT_BEFORE and p.steps[-1] == ip.CLEANUP


def test_unreachable_configuration_server_is_refused():
    p = plan(fresh(cs_reachable=False))
    assert CS_IP in p.failure and "443" in p.failure


def test_install_location_on_the_system_drive_is_refused():
    p = ip.plan_install(read_probe(fresh()), ip.InstallRequest(CS_IP, "C:\\ASR", local_installer()))
    assert "install_location" in p.failure and "system drive" in p.failure


def test_install_location_on_a_drive_that_is_not_fixed_is_refused():
    p = ip.plan_install(read_probe(fresh()), ip.InstallRequest(CS_IP, "F:\\", local_installer()))
    assert "not a fixed" in p.failure


def test_install_location_not_ntfs_is_refused():
    assert "NTFS" in plan(fresh(d_fs="ReFS")).failure


def test_too_little_free_space_is_refused_unless_skipped():
    assert "600 GB" in plan(fresh(d_free_gb=100)).failure
    assert plan(fresh(d_free_gb=100), skip_space_check=True).failure is None


def test_unsupported_os_is_refused():
    p = plan(fresh(os_version="10.0.17763"))
    assert "2012 R2" in p.failure and "2016" in p.failure


def test_installer_newer_than_the_configuration_server_is_refused():
    p = plan(fresh(), configuration_server_version=V("9.54.7012.1"))
    assert "newer than the configuration server" in p.failure


def test_remote_installer_missing_is_refused():
    remote = ip.Installer(remote_path="D:\\media\\setup.exe", option="installer_remote_path")
    p = plan(fresh(installer=installer_facts("D:\\media\\setup.exe", exists=False)), installer=remote)
    assert "installer_remote_path" in p.failure and "does not exist" in p.failure


def test_remote_installer_checksum_mismatch_is_refused():
    remote = ip.Installer(remote_path="D:\\m\\s.exe", sha256="cd" * 32, option="installer_remote_path")
    p = plan(fresh(installer=installer_facts("D:\\m\\s.exe")), installer=remote)
    assert "installer_checksum" in p.failure


def test_remote_installer_version_comes_from_the_probe():
    remote = ip.Installer(remote_path="D:\\m\\s.exe", option="installer_remote_path")
    p = plan(installed("9.55.7123.1", installer=installer_facts("D:\\m\\s.exe")), installer=remote)
    assert p.steps == [] and p.installer_version == "9.55.7123.1"


def test_unknown_version_on_an_installed_host_stages_first():
    p = plan(installed("9.55.7123.1"), installer=local_installer(version=None))
    assert p.steps == [ip.STAGE] and not p.version_known


def test_half_installed_host_runs_setup_again_with_a_warning():
    probe = fresh()
    probe["uninstall_entries"] = installed()["uninstall_entries"][:1]  # only the Dependencies
    p = plan(probe)
    assert p.steps[-2:] == [ip.RUN_INSTALL, ip.CLEANUP] and p.warnings


# ---- upgrade ----------------------------------------------------------------------------------------------
def uplan(probe, target="9.55.7123.1", intermediate=(), **kw):
    req = up.UpgradeRequest(installer=local_installer(target), intermediate=list(intermediate), **kw)
    return up.plan_upgrade(read_probe(probe), req)


def test_upgrade_same_version_is_nothing_to_do():
    p = uplan(installed("9.55.7123.1"))
    assert p.steps == [] and p.failure is None


def test_upgrade_one_hop_within_n4():
    p = uplan(installed("9.52.6801.1"))
    assert p.steps == up.hop_steps(V("9.55.7123.1"), True) and p.version_after == "9.55.7123.1"


def test_upgrade_not_installed_points_to_install():
    assert "asr.process_server.install" in uplan(fresh()).failure


def test_upgrade_downgrade_is_refused():
    assert "does not downgrade" in uplan(installed("9.56.7200.1")).failure


def test_upgrade_beyond_n4_explains_the_rule():
    p = uplan(installed("9.50.6601.1"))
    assert "N-4" in p.failure and "203" in p.failure
    # the module option AND the playbook variable an operator of upgrade.yml / site.yml sets (issue 10, item 10a)
    assert "installers (asr_installers in the playbooks)" in p.failure


def test_upgrade_beyond_n4_with_intermediate_installers_plans_hops():
    hop = ip.Installer(remote_path="D:\\m\\951.exe", version=V("9.51.6712.1"), option="installers[0]")
    p = uplan(installed("9.50.6601.1"), intermediate=[hop])
    assert [h["version"] for h in p.hops] == ["9.51.6712.1", "9.55.7123.1"]
    assert p.steps[0].startswith(ip.RUN_UPGRADE) and "9.51.6712.1" in p.steps[0]


def test_upgrade_with_intermediates_that_cannot_bridge_the_gap():
    hop = ip.Installer(remote_path="D:\\m\\950.exe", version=V("9.49.1.1"), option="installers[0]")
    failure = uplan(installed("9.44.1.1"), intermediate=[hop]).failure
    assert "bridges" in failure and "installers (asr_installers in the playbooks)" in failure


def test_upgrade_newer_than_the_configuration_server_is_refused():
    p = uplan(installed("9.52.6801.1"), configuration_server_version=V("9.54.7012.1"))
    assert "newer than the configuration server" in p.failure


def test_upgrade_network_logon_is_refused():
    assert "become" in uplan(installed("9.52.6801.1", identity=NETWORK)).failure


@pytest.mark.parametrize("pending,reboot", [(True, False), (True, True)])
def test_upgrade_pending_reboot(pending, reboot):
    p = uplan(installed("9.52.6801.1", pending=pending), reboot=reboot)
    assert (p.failure is not None) != reboot
    if reboot:
        assert p.steps[0] == ip.REBOOT_BEFORE


# ---- passphrase_file (/PassphraseFilePath [1.2, 1.3]) ---------------------------------------------------------
DESKTOP = r"C:\Users\Administrator\Desktop\Passphrase.txt"  # the seed's example


def passphrase_facts(path=DESKTOP, *, exists=True, readable=True, error=None, lines=1, non_empty=1):
    return {
        "path": path,
        "exists": exists,
        "readable": readable and exists,
        "error": error,
        "lines": lines if readable and exists else None,
        "non_empty_lines": non_empty if readable and exists else None,
        "profiles_directory": "C:\\Users",
        "under_user_profile": path.lower().startswith("c:\\users\\"),
    }


def with_passphrase_file(probe, facts):
    probe["checks"]["passphrase_file"] = facts
    return probe


@pytest.mark.parametrize(
    ("facts", "needle"),
    [
        (passphrase_facts(exists=False), "does not exist on the host"),
        (passphrase_facts(readable=False, error="Access to the path is denied."), "cannot be read"),
        (passphrase_facts(lines=0, non_empty=0), "is empty"),
        (passphrase_facts(lines=1, non_empty=0), "is empty"),
        (passphrase_facts(lines=2, non_empty=2), "holds 2 non-empty lines"),
    ],
)
def test_an_unusable_passphrase_file_is_refused_before_any_step(facts, needle):
    p = plan(with_passphrase_file(fresh(), facts), passphrase_file=facts["path"])
    assert p.failure and not p.steps
    assert needle in p.failure and "passphrase_file" in p.failure and DESKTOP in p.failure
    assert "asr_passphrase_file" in p.failure and "Ansible Vault" in p.failure
    assert "under a user profile" in p.failure  # why SYSTEM may not read it


def test_a_usable_passphrase_file_under_a_profile_warns_and_elsewhere_does_not():
    p = plan(with_passphrase_file(fresh(), passphrase_facts(lines=2, non_empty=1)), passphrase_file=DESKTOP)
    assert p.failure is None and p.steps
    (warning,) = [w for w in p.warnings if "passphrase_file" in w]
    assert "per-user" in warning and "SYSTEM" in warning and "Ansible Vault" in warning and DESKTOP in warning
    other = r"C:\ProgramData\ASR\passphrase.txt"
    p = plan(with_passphrase_file(fresh(), passphrase_facts(other)), passphrase_file=other)
    assert p.failure is None and not [w for w in p.warnings if "passphrase_file" in w]


def test_the_passphrase_file_matters_only_when_setup_runs():
    missing = passphrase_facts(exists=False)
    assert plan(with_passphrase_file(installed(), missing), passphrase_file=DESKTOP).failure is None
    assert plan(fresh()).failure is None  # passphrase given as a value: the module writes the file itself


# ---- [1.3] .NET Framework 4.6.2: without it Unified Setup waits on a message box nobody sees --------------------
@pytest.mark.parametrize(("release", "refused"), [(394254, True), (379893, True), (394802, False), (528040, False)])
def test_install_and_upgrade_refuse_a_dotnet_framework_older_than_4_6_2(release, refused):
    for decided in (plan({**fresh(), "dotnet_framework": {"release": release}}),
                    uplan({**installed("9.52.6801.1"), "dotnet_framework": {"release": release}})):  # fmt: skip
        if refused:
            assert "needs 4.6.2 or later" in decided.failure and f"release {release}" in decided.failure
            assert decided.steps == []
        else:
            assert decided.failure is None and decided.steps


def test_a_probe_without_the_dotnet_release_is_not_refused_for_it():
    assert plan(fresh()).failure is None and read_probe(fresh()).dotnet_release is None


def test_the_refusal_names_the_dotnet_version_found():
    assert "4.6.1 (release 394254)" in plan({**fresh(), "dotnet_framework": {"release": 394254}}).failure
