"""``python -m validator``: the same CLI as the ``mailcfg`` command."""

from validator.cli import main

raise SystemExit(main())
