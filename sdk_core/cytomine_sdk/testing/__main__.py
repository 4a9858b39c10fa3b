"""``python -m cytomine_sdk.testing --generation 2025``: serve a stub until Ctrl-C."""

from cytomine_sdk.testing._cli import main

raise SystemExit(main())
