"""D18 (docs/decisions.md): every nft failure says which of four things happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.doctor.nftables import ABSENT, DENIED, OTHER, UNAVAILABLE, list_nft
from tests.unit.doctor.kit import answering, not_found, sample

TABLE = ("table", "inet", "routerd_filter")


@pytest.mark.parametrize(
    ("doc", "failure", "words"),
    [
        pytest.param(
            sample("table absent"), ABSENT, "inet routerd_filter table absent", id="absent"
        ),
        pytest.param(sample("permission denied", "nft"), DENIED, "permission denied", id="denied"),
        pytest.param(sample("other"), OTHER, "libnftables.so.1", id="other"),
        pytest.param(
            not_found("nft", "-j", "list", *TABLE), UNAVAILABLE, "nft unavailable", id="gone"
        ),
    ],
)
def test_each_failure_is_classified(tmp_path: Path, doc: dict, failure: str, words: str) -> None:
    read = list_nft(answering(tmp_path, doc), *TABLE, as_json=True)
    assert read.failure == failure
    assert words in read.detail
    assert "exit status" not in read.detail


def test_a_readable_table_parses_as_json(tmp_path: Path) -> None:
    doc = {
        "argv": ["nft", "-j", "list", *TABLE],
        "rc": 0,
        "stdout": '{"nftables": [{"table": {"family": "inet", "name": "routerd_filter"}}]}',
        "stderr": "",
    }
    read = list_nft(answering(tmp_path, doc), *TABLE, as_json=True)
    assert read.ok and read.json()["nftables"][0]["table"]["name"] == "routerd_filter"
