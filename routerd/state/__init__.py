"""routerd's durable state: the SQLite database under ``--state-dir`` and its guard.

* ``store``: ``Store``, the database (dynamic parts, plugin runs, the claim journal, owned
  objects, address mobility); it implements the state ports ``routerd.core`` defines;
* ``actions``: the provider-action tables, mixed into ``Store``;
* ``guard``: the state directory's lock, the health check and the repair behind
  ``routerd state check|repair``.
"""
