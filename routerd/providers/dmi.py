"""SMBIOS/DMI identity strings, read from sysfs: the cheap, network-free platform check.

Every provider's ``detect()`` looks here before anyone touches a metadata endpoint (the
cloud-init ``ds_detect`` rule): asking 169.254.169.254 on a host that is not in that cloud
costs a full timeout. The root is a parameter so tests point it at a fake tree.
"""

from __future__ import annotations

from pathlib import Path

DMI_DIR = "sys/class/dmi/id"
FIELDS = ("sys_vendor", "chassis_asset_tag", "product_name", "board_vendor", "bios_version")
"""The world-readable DMI files the detectors use (``product_uuid`` needs root: not used)."""


def read_dmi(name: str, *, root: str = "/") -> str:
    """One DMI field, stripped; ``""`` when it is absent or unreadable.

    Args:
        name: a file under ``/sys/class/dmi/id`` (one of ``FIELDS``).
        root: filesystem root to read under (tests pass a temporary directory).
    """
    try:
        return Path(root, DMI_DIR, name).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
