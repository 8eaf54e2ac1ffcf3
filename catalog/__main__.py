"""``python -m catalog``: the same command line as the ``authcat`` console script."""

from catalog.cli import main

main()
