"""``python -m desktop`` starts the app."""

from desktop.app import main

raise SystemExit(main())
