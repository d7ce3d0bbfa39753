"""A command's start-up: heavy layers are imported where they are used, and links still come out as the site's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dangjian import cli, cli_urls

SRC = Path(__file__).resolve().parents[1] / "src"


SAMPLE = {"int": 1, "string": "x", "slug": "x", "path": "x"}


def _names(patterns, namespace: str = "") -> list[tuple[str, dict]]:
    """(namespaced name, sample kwargs for its converters) of every named pattern."""
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            found += _names(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
        elif isinstance(p, URLPattern) and p.name:
            kwargs = {
                name: SAMPLE[type(c).__name__.removesuffix("Converter").lower()]
                for name, c in p.pattern.converters.items()
            }
            found.append((namespace + p.name, kwargs))
    return found


def test_every_link_a_command_writes_is_the_sites_own():
    names = _names(get_resolver(cli.CLI_URLCONF).url_patterns)
    assert ("indicators:evidence", {}) in names
    for name, kwargs in names:
        assert reverse(name, urlconf=cli.CLI_URLCONF, kwargs=kwargs) == reverse(name, kwargs=kwargs), name
    assert cli_urls.urlpatterns


@pytest.mark.django_db
def test_a_command_run_in_process_leaves_the_site_urlconf(packs, tmp_path, capsys):
    assert cli.main(["pack", "list"]) == 0
    assert reverse("home") == "/"  # not in dangjian.cli_urls: the site's URLconf is back


def test_start_up_imports_no_schema_layer_nor_views(tmp_path):
    """What `dangjian <command>` does before its work, in a fresh process: no pydantic/ninja, no task rules, no
    view module of the site (they come with the commands that use them)."""
    script = """
import sys
from dangjian import cli
cli.setup_django()
from django.db import connection
from django.urls import reverse, set_urlconf
set_urlconf(cli.CLI_URLCONF)
print(reverse("indicators:evidence"))
connection.ensure_connection()
heavy = sorted(m for m in sys.modules if m == "ninja" or m == "pydantic" or m == "dangjian.tasks.collection"
               or (m.startswith("dangjian.") and m.endswith(".views")))
print(",".join(heavy))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env["DANGJIAN_DATA_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    link, heavy = done.stdout.splitlines()
    assert link == "/indicators/evidence/"
    assert heavy == ""
