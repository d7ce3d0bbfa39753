from __future__ import annotations

import sys

from dangjian.cli import main

sys.exit(main())
