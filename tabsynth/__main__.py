"""``python -m tabsynth`` runs the CLI."""

from .cli import main

main()
