"""BGP for address mobility: routerd drives and supervises a standard speaker (gobgpd).

* ``supervisor``: gobgpd as a detached daemon that outlives routerd, adopted on restart;
* ``configure``: gobgpd's global settings and neighbors, set over its gRPC API;
* ``codec``: route-exchange types <-> GoBGP API paths;
* ``learned``: received paths after the import rule, and session states;
* ``gobgp``: ``GobgpExchange``, the ``routerd.core.exchange.RouteExchange`` port on gobgpd;
* ``gobgpapi``: the generated GoBGP API stubs (``tools/genbgp``).

``routerd.core`` never imports this package; the daemon hands it the port's types.
"""
