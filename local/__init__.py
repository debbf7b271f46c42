"""The local runtime: every function served by a real WSGI server behind one front door."""
