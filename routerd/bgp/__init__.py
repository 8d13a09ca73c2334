"""BGP for address mobility: routerd drives and supervises a standard speaker (gobgpd).

* ``supervisor``: gobgpd as a detached daemon that outlives routerd, adopted on restart;
* ``configure``: gobgpd's global settings and neighbors, set over its gRPC API;
* ``codec``: route-exchange types <-> GoBGP API paths;
* ``gobgp``: ``GobgpExchange``, the ``routerd.core.exchange.RouteExchange`` port on gobgpd;
* ``gobgpapi``: the generated GoBGP API stubs (``tools/genbgp``).

Received paths go to ``routerd.core.learned`` (the import rule's table, shared with the
simulator's speaker). ``routerd.core`` never imports this package; the daemon hands it the
port's types.
"""
