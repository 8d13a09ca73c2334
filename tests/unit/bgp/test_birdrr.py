"""The BIRD2 route-reflector config (tools/labkit/birdrr): the shipped example is what the
renderer makes, it parses, and each client's filter names that client's own site."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tools.labkit.birdrr import EXAMPLE, EXAMPLE_PATH, RRClient, RRConfig, render


def test_the_shipped_example_is_rendered() -> None:
    assert EXAMPLE_PATH.read_text() == render(EXAMPLE), "run python -m tools.labkit.birdrr"


def test_each_client_is_filtered_on_its_own_site() -> None:
    cfg = RRConfig(
        65001,
        "10.9.0.1",
        ("10.77.0.0/16", "10.78.0.0/24"),
        (RRClient("10.9.0.11", 4), RRClient("10.9.0.12", 7)),
        log="/tmp/x.log",
    )
    text = render(cfg)
    assert "define MOBILITY_ASN = 65001;" in text
    assert "define MOBILITY_DOMAINS = [10.77.0.0/16+, 10.78.0.0/24+];" in text
    assert "protocol bgp site4_10_9_0_11 from mobility_client {" in text
    assert "neighbor 10.9.0.11 as MOBILITY_ASN;\n  ipv4 { import where mobility_ok(4); };" in text
    assert "neighbor 10.9.0.12 as MOBILITY_ASN;\n  ipv4 { import where mobility_ok(7); };" in text
    assert "local as MOBILITY_ASN;" in text and 'log "/tmp/x.log" all;' in text
    assert "add paths tx;" in text and "rr client;" in text


@pytest.mark.skipif(shutil.which("bird") is None, reason="needs bird2 (run tools/bootstrap)")
def test_bird_accepts_the_example(tmp_path) -> None:
    out = subprocess.run(
        ["bird", "-p", "-c", str(EXAMPLE_PATH)], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr


def test_the_docs_list_every_refusal_reason() -> None:
    from pathlib import Path

    from routerd.core.exchange import REFUSALS

    page = (Path(__file__).resolve().parents[3] / "docs" / "route-exchange.md").read_text()
    missing = [r for r in REFUSALS if f"`{r}`" not in page]
    assert not missing, f"docs/route-exchange.md does not explain {missing}"
