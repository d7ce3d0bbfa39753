"""`python -m bench [name …]`: run every bench/bench_*.py module's run() (or only the named ones).

Django is set up first, on a fresh temporary data dir (unless DANGJIAN_DATA_DIR is given) that is migrated and
has the built-in packs loaded, so benches that work in-process find a ready database. Benches that need their own
databases (bench_indicators builds one per scale) start subprocesses.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path


def setup() -> None:
    if not os.environ.get("DANGJIAN_DATA_DIR") and not os.environ.get("DANGJIAN_DATABASE_URL"):
        os.environ["DANGJIAN_DATA_DIR"] = tempfile.mkdtemp(prefix="dangjian-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from dangjian.packs.loader import load_all

    call_command("migrate", interactive=False, verbosity=0)
    load_all()


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    if argv:
        names = [n for n in names if n in argv or n.removeprefix("bench_") in argv]
    setup()
    failed = 0
    for name in names:
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(f"bench.{name}")
        try:
            module.run()
        except Exception as exc:  # one broken bench must not hide the others' results
            failed += 1
            print(f"{name} 失败：{exc!r}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
