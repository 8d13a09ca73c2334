"""The Linux dataplane backend (real routers; also runs inside a network namespace).

Entry points: ``LinuxBackend`` (the ``DataplaneBackend`` port, ``backend.py``) and the
registry hooks ``factory.available`` / ``factory.create``. Module map: ``netlink_codec`` and
``netlink_socket`` (raw, pipelined rtnetlink), ``routes``, ``neighbours``, ``addresses``,
``links`` (pyroute2), ``sysctl``, ``nftables``, ``wireguard``/``wguapi``/``wgtool``/
``wgsupervisor``/``wgdevice``, ``events``, ``garp``, ``probe``, ``observer``, ``cache``
(the observation kept between passes), ``applier``, ``host``.
"""

from __future__ import annotations


def __getattr__(name: str) -> object:
    """``from routerd.backends.linux import LinuxBackend`` without importing pyroute2 early."""
    if name == "LinuxBackend":
        from routerd.backends.linux.backend import LinuxBackend

        return LinuxBackend
    raise AttributeError(name)
