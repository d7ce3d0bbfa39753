"""WSGI entry point, served by waitress (`dangjian serve`) or any WSGI server."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from dangjian.datadir import private_umask, tighten_or_warn

private_umask()  # before the settings create the data dir: files the app writes are its owner's only
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")
application = get_wsgi_application()
tighten_or_warn(settings.DATA_DIR)
