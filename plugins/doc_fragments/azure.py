# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# What the modules that talk to Azure Resource Manager (the action group ``azure``: vault_info,
# switch_process_server) share, stated once: the vault and how to sign in, with azure.azcollection's option names and
# environment variables (plugin_utils/domain/azure_auth.py); the support levels of the attributes, as common.py
# gives them for the WinRM modules (each module adds its own check_mode and diff_mode); the requirements; the notes,
# among them the contract of the return value ``refused``, which each module documents in its RETURN in short.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  resource_group:
    description:
      - The resource group of the Recovery Services vault.
    type: str
    required: true
  vault:
    description:
      - The Recovery Services vault the configuration servers are registered to.
    type: str
    required: true
  auth_source:
    description:
      - Where the credentials come from, as in C(azure.azcollection).
      - V(auto) (the default) tries, in order, the O(profile) option, the O(client_id) option, the environment
        (when E(AZURE_PROFILE) or E(AZURE_SUBSCRIPTION_ID) is set), the C([default]) profile of C(~/.azure/credentials),
        then the Azure CLI's login.
      - V(env) reads E(AZURE_SUBSCRIPTION_ID), E(AZURE_CLIENT_ID), E(AZURE_SECRET), E(AZURE_TENANT),
        E(AZURE_X509_CERTIFICATE_PATH), E(AZURE_CLOUD_ENVIRONMENT), E(AZURE_CERT_VALIDATION_MODE),
        E(AZURE_ADFS_AUTHORITY_URL) and E(AZURE_DISABLE_INSTANCE_DISCOVERY) - what an AWX or Automation Platform
        "Microsoft Azure Resource Manager" credential sets.
      - V(credential_file) reads the O(profile) section (default C(default)) of C(~/.azure/credentials).
      - V(msi) uses the managed identity of the machine Ansible runs on (O(client_id) picks a user-assigned one).
      - V(cli) uses the Azure CLI's login (C(az login)).
      - When not set, the environment variable E(ANSIBLE_AZURE_AUTH_SOURCE), else V(auto).
    type: str
    choices: [auto, cli, env, credential_file, msi]
  profile:
    description:
      - A section of C(~/.azure/credentials) holding the options below under their names.
    type: str
  subscription_id:
    description:
      - The subscription of the vault. Default E(AZURE_SUBSCRIPTION_ID).
    type: str
  client_id:
    description:
      - The service principal's application (client) ID, or a user-assigned managed identity's. Default
        E(AZURE_CLIENT_ID).
    type: str
  secret:
    description:
      - The service principal's client secret. Default E(AZURE_SECRET). Never shown in results or logs.
    type: str
  tenant:
    description:
      - The service principal's tenant (directory) ID. Default E(AZURE_TENANT).
    type: str
  x509_certificate_path:
    description:
      - A PEM file holding the service principal's certificate and private key, to sign in with the certificate
        instead of a secret. Default E(AZURE_X509_CERTIFICATE_PATH).
    type: path
  cloud_environment:
    description:
      - The Azure cloud. Default E(AZURE_CLOUD_ENVIRONMENT), else V(AzureCloud).
      - One of V(AzureCloud), V(AzureChinaCloud), V(AzureUSGovernment).
    type: str
  adfs_authority_url:
    description:
      - The sign-in authority host (Microsoft Entra ID of the cloud by default; ADFS or a private authority
        otherwise). Default E(AZURE_ADFS_AUTHORITY_URL).
    type: str
  cert_validation_mode:
    description:
      - V(ignore) turns off TLS certificate validation of Azure's endpoints (for tests only). Default
        E(AZURE_CERT_VALIDATION_MODE), else V(validate).
    type: str
    choices: [validate, ignore]
  disable_instance_discovery:
    description:
      - Do not ask Microsoft to confirm the sign-in authority, for an authority Microsoft does not list (Azure Stack,
        ADFS, a private cloud, the lab). Default E(AZURE_DISABLE_INSTANCE_DISCOVERY).
    type: bool
  resource_manager_endpoint:
    description:
      - The Azure Resource Manager endpoint, when it is not the cloud's own (a private endpoint or proxy, the lab).
    type: str
  ca_path:
    description:
      - A PEM bundle of the certificate authorities to trust for Azure's endpoints (a TLS-inspecting proxy, the
        lab). Without it the controller's bundle is used (E(REQUESTS_CA_BUNDLE) when set).
    type: path
attributes:
  action:
    support: full
    details: An action plugin that runs on the controller and calls Azure Resource Manager through Microsoft's
      C(azure-mgmt-recoveryservicessiterecovery) client; it makes no WinRM call.
  action_group:
    support: full
    membership:
      - asr.process_server.azure
  async:
    support: none
    details: The task refuses the C(async) keyword; a Switch is a long-running Azure operation the task waits for
      (for C(switch_process_server), its option C(wait_timeout)).
  bypass_host_loop:
    support: none
  platform:
    support: full
    platforms: all
requirements:
  - azure-mgmt-recoveryservicessiterecovery >= 2.0.0 (Resource Manager API version 2025-08-01)
  - azure-identity >= 1.19
author:
  - asr.process_server developers (@asr-process-server)
notes:
  - Runs on the controller and talks to Azure Resource Manager only (no WinRM call); use it with C(run_once) and
    C(delegate_to) C(localhost).
  - The Azure Python packages are an optional extra of the collection (C(requirements/azure.txt)); a task that needs
    them and lacks them fails naming the packages to install. The WinRM modules do not need them.
  - The identity needs the C(Site Recovery Reader) role on the vault to read, C(Site Recovery Contributor) to move
    machines.
  - B(Resource Manager requests) - RV(azure) counts, on success and on failure (but not when an option is refused
    before any request), the requests the task made (C(calls), every attempt), those Azure throttled
    (C(throttled); HTTP 429 is waited out as C(Retry-After) says and retried) and the sign-ins
    (C(token_refreshes); a token that expires during a long run is renewed), and says how the task signed in
    (C(signed_in_with), never a secret).
  - B(Refusals) - RV(refused) is V(true) when the task failed before it sent Azure any request that changes
    something - a bad option, a sign-in or a read that failed, a configuration server, process server or machine
    that is not there, or a move its checks refuse. Nothing was changed; the message says what is wrong and what to
    do. A failure after a Switch was started is not a refusal (C(changed) is then V(true)).
"""
