# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The intermediate installers of an upgrade beyond the N-4 rule (upgrade, process_server with state=latest).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  installers:
    description:
      - Intermediate Unified Setup builds to use as hops when the installer is more than 4 minor versions above
        the installed build (the N-4 rule; Unified Setup exits 203 beyond). Only the ones the plan needs are
        copied and run.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Path on the controller of the package (exactly one of O(installers[].path), O(installers[].url) and
            O(installers[].remote_path)).
        type: path
      remote_path:
        description:
          - Path on the host of the package, or a UNC path the host copies it from (O(installers[].checksum) then
            required), as for O(installer_remote_path).
        type: str
      url:
        description:
          - HTTP or HTTPS URL the host downloads the package from, as for O(installer_url) (a secret, never shown;
            O(installers[].checksum) required).
        type: str
      version:
        description: The package's version, for example V(9.51.6712.1).
        type: str
        required: true
      checksum:
        description: Expected SHA-256 of the package.
        type: str
"""
