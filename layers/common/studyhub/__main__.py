"""``python -m studyhub ...`` is the ``studyhub`` command (works before the script is on PATH)."""
from .cli import main

main()
