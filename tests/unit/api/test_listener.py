"""Listener option checks: TCP only with all three mutual-TLS files; socket groups."""

from __future__ import annotations

import grp

import pytest

from routerd.api.listener import ListenerError, TlsFiles, resolve_group, tls_files


def test_no_tcp_means_no_tls():
    assert tls_files(None, None, None, None) is None


def test_tls_files_without_tcp_are_an_error():
    with pytest.raises(ListenerError, match="need --listen-tcp"):
        tls_files(None, "c.pem", None, None)


@pytest.mark.parametrize(
    ("cert", "key", "ca", "missing"),
    [
        (None, None, None, "--tls-cert, --tls-key, --tls-client-ca"),
        ("c", "k", None, "--tls-client-ca"),
        ("c", None, "ca", "--tls-key"),
    ],
)
def test_tcp_without_mutual_tls_is_refused_naming_what_is_missing(cert, key, ca, missing):
    with pytest.raises(ListenerError) as e:
        tls_files("0.0.0.0:9443", cert, key, ca)
    assert "refused without mutual TLS" in str(e.value)
    assert missing in str(e.value)


def test_tcp_with_all_tls_files_is_accepted():
    assert tls_files("0.0.0.0:9443", "c", "k", "ca") == TlsFiles("c", "k", "ca")


def test_groups_resolve_by_name_or_number():
    root = grp.getgrgid(0).gr_name
    assert resolve_group(root) == 0
    assert resolve_group("4242") == 4242
    with pytest.raises(ListenerError, match="no such group"):
        resolve_group("no-such-group-zz")
