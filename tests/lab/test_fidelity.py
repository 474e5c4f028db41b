"""Fidelity fixes from the lab review: the lab follows the reference where it had drifted from it."""

from __future__ import annotations

from asr_helpers import EXTRACTED, PS_LINE, install_ps, make_estate, run

from lab.asr import cs as cs_mod
from lab.asr.cdpcli import registration_target

AMETHYST = r"D:\home\svsystems\etc\amethyst.conf"
CXPS = r"D:\home\svsystems\transport\cxps.conf"


def test_the_data_port_is_read_from_cxps_conf_not_an_invented_amethyst_key(tmp_path):
    # [6.5]: the data port is cxps.conf [cxps] ssl_port; amethyst.conf has no data-port key.
    estate = make_estate(tmp_path)
    assert install_ps(estate, line=PS_LINE + " /DataTransferSecurePort 9500").rc == 0
    ps = estate.read_host("ps01")
    assert "SSL_PORT" not in ps.read_text(AMETHYST)
    assert "ssl_port = 9500" in ps.read_text(CXPS)
    assert registration_target(ps)[2] == 9500


def test_registermt_reports_the_cxps_data_port_and_finds_the_cs_by_ps_cs_ip(tmp_path):
    # A surveyed scale-out PS carries PS_CS_IP and no CS_IP ([6.5] keys); cdpcli must still find its CS
    # and book the data port cxps.conf names.
    estate = make_estate(tmp_path)
    assert install_ps(estate, line=PS_LINE + " /DataTransferSecurePort 9500").rc == 0
    with estate.open_host("ps01") as ps:
        text = ps.read_text(AMETHYST)
        ps.write_file(AMETHYST, "".join(line + "\r\n" for line in text.splitlines() if not line.startswith("CS_")))
        assert run(ps, r"D:\agent\cdpcli.exe --registermt", cwd=EXTRACTED).rc == 0
    record = cs_mod.registered(estate.read_host("cs01"))["10.0.0.101"]
    assert record["data_port"] == 9500 and record["mt_registered"] is True
