"""Resource groups of the Fini client (``client.bots``, ``client.knowledge``, ...)."""
