# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Azure credential a task uses, decided the way ``azure.azcollection`` decides it.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

An operator who runs ``azure.azcollection`` modules already has credentials in one of the places those modules read
(``azure.azcollection`` 2.3.0, ``plugins/module_utils/azure_rm_common.py``, ``AZURE_COMMON_ARGS``,
``AZURE_CREDENTIAL_ENV_MAPPING`` and ``AzureRMAuth._get_credentials``); this collection reads the same places, in
the same order, so nothing new has to be configured:

* ``auth_source`` ``auto`` (default; environment variable ``ANSIBLE_AZURE_AUTH_SOURCE``): the task's ``profile``
  (a section of ``~/.azure/credentials``), else the task's ``client_id``, else the environment (when
  ``AZURE_PROFILE`` or ``AZURE_SUBSCRIPTION_ID`` is set), else the ``[default]`` profile of ``~/.azure/credentials``,
  else the Azure CLI's login;
* ``env``: ``AZURE_SUBSCRIPTION_ID``, ``AZURE_CLIENT_ID``, ``AZURE_SECRET``, ``AZURE_TENANT``,
  ``AZURE_X509_CERTIFICATE_PATH``, ``AZURE_CLOUD_ENVIRONMENT``, ``AZURE_CERT_VALIDATION_MODE``,
  ``AZURE_ADFS_AUTHORITY_URL``, ``AZURE_DISABLE_INSTANCE_DISCOVERY`` (``AZURE_PROFILE`` names a profile of the
  file instead) -- the variables an AWX "Microsoft Azure Resource Manager" credential sets;
* ``credential_file``: ``~/.azure/credentials``, an INI file whose section ``[default]`` (or ``profile``) holds
  ``subscription_id``, ``client_id``, ``secret``, ``tenant`` ... under the option names;
* ``msi``: the managed identity of the machine Ansible runs on (``client_id`` picks a user-assigned one);
* ``cli``: the Azure CLI's login (``az login``).

From what was found: ``client_id`` + ``secret`` + ``tenant`` is a service principal with a secret
(``azure.identity.ClientSecretCredential``); ``client_id`` + ``x509_certificate_path`` + ``tenant`` one with a
certificate (``CertificateCredential``; a PEM file holding the private key and the certificate). A user name and
password (``ad_user``/``password``) is not taken: Microsoft Entra refuses it for accounts with multi-factor
authentication, and azure-identity deprecates ``UsernamePasswordCredential``.
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidOption

AUTH_SOURCES = ("auto", "cli", "env", "credential_file", "msi")
CLOUDS: dict[str, tuple[str, str]] = {  # name -> (Resource Manager endpoint, sign-in authority host)
    "AzureCloud": ("https://management.azure.com", "https://login.microsoftonline.com"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net", "https://login.microsoftonline.us"),
}
# azure.azcollection's option -> environment variable (AZURE_CREDENTIAL_ENV_MAPPING), for the options used here.
ENV: dict[str, str] = {
    "profile": "AZURE_PROFILE",
    "subscription_id": "AZURE_SUBSCRIPTION_ID",
    "client_id": "AZURE_CLIENT_ID",
    "secret": "AZURE_SECRET",
    "tenant": "AZURE_TENANT",
    "cloud_environment": "AZURE_CLOUD_ENVIRONMENT",
    "cert_validation_mode": "AZURE_CERT_VALIDATION_MODE",
    "adfs_authority_url": "AZURE_ADFS_AUTHORITY_URL",
    "x509_certificate_path": "AZURE_X509_CERTIFICATE_PATH",
    "disable_instance_discovery": "AZURE_DISABLE_INSTANCE_DISCOVERY",
}
CREDENTIALS_FILE = "~/.azure/credentials"
SECRET = "secret"
CERTIFICATE = "certificate"
MANAGED_IDENTITY = "msi"
AZURE_CLI = "cli"
_TRUE = frozenset({"true", "yes", "1", "on"})


@dataclass(frozen=True)
class AuthSettings:
    """The credential to build and where Resource Manager is (``kind``: secret, certificate, msi or cli)."""

    kind: str
    found_in: str
    subscription_id: str
    tenant: str | None = None
    client_id: str | None = None
    secret: str | None = None
    certificate_path: str | None = None
    authority: str | None = None
    resource_manager: str = CLOUDS["AzureCloud"][0]
    scope: str = CLOUDS["AzureCloud"][0] + "/.default"
    verify: bool | str = True
    disable_instance_discovery: bool = False

    def describe(self) -> str:
        """For the result: how the task signed in (never a secret)."""
        what = {SECRET: "service principal with a secret", CERTIFICATE: "service principal with a certificate"}
        return f"{what.get(self.kind, self.kind)} from {self.found_in}"


def _given(values: Mapping[str, Any], names: tuple[str, ...] = tuple(ENV)) -> dict[str, Any]:
    return {k: values[k] for k in names if values.get(k) not in (None, "")}


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    return {option: environ[var] for option, var in ENV.items() if environ.get(var)}


def profile_from_file(text: str | None, profile: str, path: str = CREDENTIALS_FILE) -> dict[str, Any] | None:
    """A section of ``~/.azure/credentials`` under azure.azcollection's option names (None: no such section)."""
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise InvalidOption(
            "profile", profile, f"a readable INI section of {path}", f"The file is not INI: {exc}"
        ) from None
    if not parser.has_section(profile):
        return None
    return {k: v for k, v in parser.items(profile) if k in ENV and v}


def found_values(
    params: Mapping[str, Any], environ: Mapping[str, str], credentials_file: str | None
) -> tuple[dict[str, Any], str]:
    """The credential values and where they were found (``auth_source``, azure.azcollection's order)."""
    source = params.get("auth_source") or environ.get("ANSIBLE_AZURE_AUTH_SOURCE") or "auto"
    if source not in AUTH_SOURCES:
        raise InvalidOption("auth_source", source, "one of " + ", ".join(AUTH_SOURCES))
    given = _given(params)
    if source in (MANAGED_IDENTITY, AZURE_CLI):
        return {**from_environment(environ), **given}, source
    if source == "env":
        env = from_environment(environ)
        if env.get("profile"):
            return _profile(credentials_file, env["profile"], "the environment's AZURE_PROFILE"), "env"
        return env, "env"
    if source == "credential_file":
        name = given.get("profile") or "default"
        return _profile(credentials_file, name, "auth_source credential_file"), f"{CREDENTIALS_FILE} [{name}]"
    if given.get("profile"):
        return {
            **_profile(credentials_file, given["profile"], "profile"),
            **given,
        }, f"{CREDENTIALS_FILE} [{given['profile']}]"
    if given.get("client_id"):
        return given, "the task's options"
    env = from_environment(environ)
    if env.get("profile"):
        name = env["profile"]
        return {**_profile(credentials_file, name, "AZURE_PROFILE"), **given}, f"{CREDENTIALS_FILE} [{name}]"
    if env.get("subscription_id"):
        return {**env, **given}, "the environment"
    default = profile_from_file(credentials_file, "default")
    if default and default.get("subscription_id"):
        return {**default, **given}, f"{CREDENTIALS_FILE} [default]"
    return {**env, **given}, AZURE_CLI


def _profile(text: str | None, name: str, why: str) -> dict[str, Any]:
    values = profile_from_file(text, name)
    if values is None:
        raise InvalidOption(
            "profile",
            name,
            f"a section of {CREDENTIALS_FILE} that exists",
            f"{why} names it; the file has no [{name}].",
        )
    return values


def resolve(params: Mapping[str, Any], environ: Mapping[str, str], credentials_file: str | None) -> AuthSettings:
    """The settings of the credential to build, or :class:`InvalidOption` naming what is missing."""
    values, found_in = found_values(params, environ, credentials_file)
    kind = _kind(values, found_in)
    subscription = values.get("subscription_id")
    if not subscription:
        var = ENV["subscription_id"]
        why = "It is empty."
        if found_in == AZURE_CLI and params.get("auth_source") in (None, "auto"):
            why = (
                f"No credentials were found in the task's options, the environment ({var}, AZURE_CLIENT_ID...) or "
                f"{CREDENTIALS_FILE}, so the Azure CLI's login would be used: give its subscription."
            )
        raise InvalidOption(
            "subscription_id", None, f"the vault's subscription ID (option subscription_id, or {var})", why
        )
    cloud = str(values.get("cloud_environment") or "AzureCloud")
    if cloud not in CLOUDS:
        raise InvalidOption("cloud_environment", cloud, "one of " + ", ".join(CLOUDS))
    endpoint, authority = CLOUDS[cloud]
    mode = str(values.get("cert_validation_mode") or "validate")
    if mode not in ("validate", "ignore"):
        raise InvalidOption("cert_validation_mode", mode, "one of validate, ignore")
    verify: bool | str = params.get("ca_path") or True
    if mode == "ignore":
        verify = False
    discovery = values.get("disable_instance_discovery")
    return AuthSettings(
        kind=kind,
        found_in=found_in,
        subscription_id=str(subscription),
        tenant=values.get("tenant"),
        client_id=values.get("client_id"),
        secret=values.get("secret") if kind == SECRET else None,
        certificate_path=values.get("x509_certificate_path") if kind == CERTIFICATE else None,
        authority=values.get("adfs_authority_url") or authority,
        resource_manager=str(params.get("resource_manager_endpoint") or endpoint).rstrip("/"),
        scope=endpoint + "/.default",
        verify=verify,
        disable_instance_discovery=discovery is True or str(discovery).lower() in _TRUE,
    )


def _kind(values: Mapping[str, Any], found_in: str) -> str:
    if found_in in (MANAGED_IDENTITY, AZURE_CLI):
        return found_in
    if values.get("client_id") and values.get("secret"):
        need = SECRET
    elif values.get("client_id") and values.get("x509_certificate_path"):
        need = CERTIFICATE
    else:
        raise InvalidOption(
            "client_id",
            values.get("client_id"),
            "a service principal: client_id, tenant and secret (or x509_certificate_path)",
            f"The credentials from {found_in} lack "
            + ("client_id." if not values.get("client_id") else "a secret or a certificate."),
        )
    if not values.get("tenant"):
        raise InvalidOption(
            "tenant", None, "the service principal's tenant ID", f"The credentials from {found_in} lack it."
        )
    return need
