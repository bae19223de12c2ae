"""``python -m speech`` runs the CLI."""

import sys

from speech.cli.main import main

sys.exit(main())
