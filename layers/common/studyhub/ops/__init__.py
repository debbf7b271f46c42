"""Operating the platform: the ``studyhub`` command, demo data. On top of everything: it may use
``local/`` and ``jobs/``; nothing imports it."""
