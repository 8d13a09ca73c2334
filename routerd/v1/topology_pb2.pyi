from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Peer(_message.Message):
    __slots__ = ("name", "role", "node_id", "underlay_type", "interface", "local_address", "remote_node_id", "remote_address", "path_mtu", "origin", "claims", "wireguard_public_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    UNDERLAY_TYPE_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PATH_MTU_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    WIREGUARD_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: str
    node_id: str
    underlay_type: str
    interface: str
    local_address: str
    remote_node_id: str
    remote_address: str
    path_mtu: int
    origin: str
    claims: _containers.RepeatedScalarFieldContainer[str]
    wireguard_public_key: str
    def __init__(self, name: _Optional[str] = ..., role: _Optional[str] = ..., node_id: _Optional[str] = ..., underlay_type: _Optional[str] = ..., interface: _Optional[str] = ..., local_address: _Optional[str] = ..., remote_node_id: _Optional[str] = ..., remote_address: _Optional[str] = ..., path_mtu: _Optional[int] = ..., origin: _Optional[str] = ..., claims: _Optional[_Iterable[str]] = ..., wireguard_public_key: _Optional[str] = ...) -> None: ...

class ListPeersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPeersResponse(_message.Message):
    __slots__ = ("peers",)
    PEERS_FIELD_NUMBER: _ClassVar[int]
    peers: _containers.RepeatedCompositeFieldContainer[Peer]
    def __init__(self, peers: _Optional[_Iterable[_Union[Peer, _Mapping]]] = ...) -> None: ...

class GetPeerRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class Domain(_message.Message):
    __slots__ = ("name", "prefix", "mode", "peer_ref", "origin", "claims")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    PEER_REF_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    name: str
    prefix: str
    mode: str
    peer_ref: str
    origin: str
    claims: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., prefix: _Optional[str] = ..., mode: _Optional[str] = ..., peer_ref: _Optional[str] = ..., origin: _Optional[str] = ..., claims: _Optional[_Iterable[str]] = ...) -> None: ...

class ListDomainsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDomainsResponse(_message.Message):
    __slots__ = ("domains",)
    DOMAINS_FIELD_NUMBER: _ClassVar[int]
    domains: _containers.RepeatedCompositeFieldContainer[Domain]
    def __init__(self, domains: _Optional[_Iterable[_Union[Domain, _Mapping]]] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("destination", "device", "gateway", "metric", "table", "type", "owners")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    destination: str
    device: str
    gateway: str
    metric: int
    table: int
    type: str
    owners: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, destination: _Optional[str] = ..., device: _Optional[str] = ..., gateway: _Optional[str] = ..., metric: _Optional[int] = ..., table: _Optional[int] = ..., type: _Optional[str] = ..., owners: _Optional[_Iterable[str]] = ...) -> None: ...

class ListRoutesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRoutesResponse(_message.Message):
    __slots__ = ("routes",)
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    routes: _containers.RepeatedCompositeFieldContainer[Route]
    def __init__(self, routes: _Optional[_Iterable[_Union[Route, _Mapping]]] = ...) -> None: ...

class WireGuardPeer(_message.Message):
    __slots__ = ("name", "public_key", "endpoint", "persistent_keepalive", "allowed_ips", "explicit_allowed_ips", "derived_allowed_ips")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_KEEPALIVE_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_IPS_FIELD_NUMBER: _ClassVar[int]
    EXPLICIT_ALLOWED_IPS_FIELD_NUMBER: _ClassVar[int]
    DERIVED_ALLOWED_IPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    public_key: str
    endpoint: str
    persistent_keepalive: int
    allowed_ips: _containers.RepeatedScalarFieldContainer[str]
    explicit_allowed_ips: _containers.RepeatedScalarFieldContainer[str]
    derived_allowed_ips: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., public_key: _Optional[str] = ..., endpoint: _Optional[str] = ..., persistent_keepalive: _Optional[int] = ..., allowed_ips: _Optional[_Iterable[str]] = ..., explicit_allowed_ips: _Optional[_Iterable[str]] = ..., derived_allowed_ips: _Optional[_Iterable[str]] = ...) -> None: ...

class WireGuardInterface(_message.Message):
    __slots__ = ("name", "public_key", "private_key_file", "listen_port", "mtu", "peers", "origin")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_KEY_FILE_FIELD_NUMBER: _ClassVar[int]
    LISTEN_PORT_FIELD_NUMBER: _ClassVar[int]
    MTU_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    name: str
    public_key: str
    private_key_file: str
    listen_port: int
    mtu: int
    peers: _containers.RepeatedCompositeFieldContainer[WireGuardPeer]
    origin: str
    def __init__(self, name: _Optional[str] = ..., public_key: _Optional[str] = ..., private_key_file: _Optional[str] = ..., listen_port: _Optional[int] = ..., mtu: _Optional[int] = ..., peers: _Optional[_Iterable[_Union[WireGuardPeer, _Mapping]]] = ..., origin: _Optional[str] = ...) -> None: ...

class GetWireGuardInterfaceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
