"""Route exchange in a simulated world: every router's BGP speaker and a route reflector.

* ``fabric``: ``BgpFabric``, the world's speakers, sessions, partitions and their timing;
* ``speaker``: one router's speaker (what gobgpd holds on a real router);
* ``reflector``: the world's route reflector (implicit or declared in the World file);
* ``paths``: what speakers send and what the reflector's filter accepts;
* ``exchange``: ``SimExchange``, the ``routerd.core.exchange.RouteExchange`` port on it;
* ``sessions``: which sessions the speakers' neighbor lists make;
* ``report``: what each speaker originates and receives, for ``SimService.GetExchange``.

Imported on first use (``World.bgp``): a world without route exchange never loads it.
"""
