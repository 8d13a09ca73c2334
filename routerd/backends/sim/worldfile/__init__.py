"""World files: a simulated network in YAML (``sim.routerd.net/v1alpha1``, ``kind: World``).

``spec`` is the format, ``decode``/``checks``/``peers`` validate it (reported through
``findings``), ``load`` reads a file with its router configs, ``build`` makes the ``World``.
``routerd serve --backend sim --world`` (``routerd.daemon.world``) and ``routerd.testing``
run one; docs/testing-automation.md describes the format.
"""
