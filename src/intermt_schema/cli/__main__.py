"""``python -m intermt_schema.cli``: the ``intermt`` command."""

from . import main

raise SystemExit(main())
