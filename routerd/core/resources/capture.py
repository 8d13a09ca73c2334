"""The capture block: how a router makes an address homed elsewhere arrive at itself.

Shared by ``RemoteAddressClaim.spec.capture`` and a mobility domain's ``mobility.capture``
(derived claims copy it), so both accept exactly the same fields.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from routerd.core.resources.base import Spec, one_of

CAPTURE_TYPES = ("provider-secondary-ip", "proxy-arp")
RESERVED_CAPTURE = {
    t: (
        f"capture type {t!r} is reserved and not implemented; "
        "use provider-secondary-ip (cloud side) or proxy-arp (on-prem side)"
    )
    for t in ("garp", "static-host-route")
}


class Capture(Spec):
    type: str
    provider_ref: str = ""
    provider_mode: str = ""
    nic_ref: str = ""
    configure_os_address: bool = Field(False, alias="configureOSAddress")
    interface: str = ""
    gratuitous_arp: bool = Field(False, alias="gratuitousARP")

    _type = field_validator("type")(
        one_of("capture.type", CAPTURE_TYPES, reserved=RESERVED_CAPTURE)
    )

    @field_validator("configure_os_address")
    @classmethod
    def _os(cls, v: bool) -> bool:
        if v:
            raise ValueError(
                "configureOSAddress: true is not supported: routerd keeps the captured "
                "address OFF the router's interfaces (an OS-local address is consumed "
                "instead of forwarded); remove the field or set it to false"
            )
        return v
