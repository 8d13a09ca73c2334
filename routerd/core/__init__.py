"""Platform-neutral kernel of routerd.

Data flows one way through these modules::

    config (loader, resources, validation)
      -> effective config (effective)
      -> claims + desired dataplane objects (lowering, desired)
      -> backend diff/apply through the port (port, plan)
      -> observation -> claim state machine (lifecycle, engine)
      -> events (journal) -> API

Nothing here imports a backend, a provider, the API, the CLI, pyroute2, nftables or grpc;
an import-linter contract enforces it.
"""
