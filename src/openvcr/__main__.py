"""``python -m openvcr`` runs the command line."""

from openvcr.cli import main

main()
