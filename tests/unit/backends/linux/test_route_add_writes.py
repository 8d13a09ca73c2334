"""``routes.add_writes`` (a cold start's batch encoder) against ``add_write``, route by route.

The batch shares templates between routes of one shape; any route it encodes differently
from the one-at-a-time encoder (request bytes, or whether its echo is predicted) would
be written or cached wrongly, and an unencodable route must fail alone, in its place.
"""

from __future__ import annotations

import random

from routerd.backends.linux import routes
from routerd.core.desired import Route


def mix(rng: random.Random, n: int) -> list[tuple[Route, int | None]]:
    out: list[tuple[Route, int | None]] = []
    for i in range(n):
        dst = rng.choice(
            (
                f"10.9.{i // 250}.{i % 250 + 1}/32",
                f"10.9.{i // 250}.{i % 250 + 1}",  # no prefix length: a /32, echo not plain
                f"10.{i % 200}.0.0/16",
                "010.9.0.1/32",  # not canonical: the echo names another address
                "10.9.0.1/032",
                "0.0.0.0/0",
            )
        )
        kind = rng.choice(("unicast", "unicast", "blackhole"))
        ifindex = rng.choice((3, 7, None)) if kind == "unicast" else None
        gateway = rng.choice(("", "", "10.40.8.2", "10.40.8.02")) if kind == "unicast" else ""
        route = Route(dst, "dev", rng.choice((0, 120)), gateway, rng.choice((254, 1000)), type=kind)
        out.append((route, ifindex))
    return out


def test_each_route_is_encoded_as_add_write_encodes_it_alone():
    adds = mix(random.Random(5), 400)
    got = routes.add_writes(adds)
    assert got == [routes.add_write(route, ifindex) for route, ifindex in adds]
    assert any(write[2] is None for _, write in got)  # the mix has unpredictable echoes
    assert any(write[2] is not None for _, write in got)


def test_an_unencodable_route_gets_its_error_and_the_others_their_requests():
    good = (Route("10.9.0.1/32", "dev"), 3)
    bad = (Route("10.9.0.300/32", "dev"), 3)
    bad_plen = (Route("10.9.0.1/x", "dev"), 3)
    got = routes.add_writes([bad, good, bad_plen, good])
    assert isinstance(got[0], OSError)
    assert isinstance(got[2], ValueError)
    assert got[1] == got[3] == routes.add_write(*good)


def test_bare_bodies_are_the_requests_bodies_and_errors_keep_their_positions():
    adds = mix(random.Random(7), 400)
    adds[3] = (Route("10.9.0.300/32", "dev"), 3)
    adds[250] = (Route("10.9.0.1/x", "dev"), None)
    for replace in (False, True):
        bodies, writes, errors = routes.add_bodies(adds, replace=replace)
        want = routes.add_writes(adds, replace=replace)
        assert sorted(errors) == [i for i, w in enumerate(want) if isinstance(w, Exception)]
        assert [repr(errors[i]) for i in errors] == [repr(want[i]) for i in errors]
        encoded = [w for w in want if not isinstance(w, Exception)]
        assert bodies == [request.body for request, _ in encoded]
        assert writes == [write for _, write in encoded]
        flags = routes.REPLACE_FLAGS if replace else routes.ADD_FLAGS
        assert {(r.type, r.flags) for r, _ in encoded} == {(routes.nl.RTM_NEWROUTE, flags)}
