"""The one way a page's JSON twin answers (a leaf module: Django only, so every stage's views may use it).

The twins keep the URL form each page has always had — `.json` on ledger pages, `?format=json` on the evidence
page and the ledger list, `.json` as a download format on reports — and the HTTP API under /api/ has its own
schemas; what they share is this: Chinese as it is (not \\uXXXX), and one test of whether JSON was asked for.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse


def wants_json(request: HttpRequest, fmt: str = "") -> bool:
    """The `.json` twin of a page (`fmt` from the URL) or the page asked with `?format=json`."""
    return fmt == "json" or request.GET.get("format") == "json"


def json_response(data: dict[str, Any], status: int = 200) -> JsonResponse:
    """A JSON twin's answer, Chinese written as it is."""
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


# --- download names ------------------------------------------------------------------------------------------------

FILE_NAME_LIMIT = 120  # characters before the extension: Windows and WPS handle far more, people read less
_NOT_IN_FILE_NAMES = str.maketrans({c: "_" for c in '/\\:*?"<>|'} | {chr(c): None for c in range(32)})


def download_name(stem: str, ext: str) -> str:
    """A Chinese file name a clerk can keep as it is: characters Windows refuses replaced, length bounded."""
    cleaned = " ".join(stem.translate(_NOT_IN_FILE_NAMES).split())[:FILE_NAME_LIMIT] or "下载"
    return f"{cleaned}.{ext}"


def content_disposition(name: str, *, inline: bool = False) -> str:
    """The Content-Disposition of a download named `name` (UTF-8, as every browser reads it)."""
    from urllib.parse import quote

    return f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name)}"


# --- links back ----------------------------------------------------------------------------------------------------

BACK_LIMIT = 500


def local_path(value: str | None) -> str:
    """`value` when it is a path on this site (/reports/…, with its query), else "": a `from=` link back may lead
    only home, never to another host (//evil.example, https://…, javascript:…)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > BACK_LIMIT:
        return ""
    if any(ord(c) < 32 for c in value):
        return ""
    return value if url_has_allowed_host_and_scheme(value, allowed_hosts=None) else ""


def with_query(path: str, **params: str) -> str:
    """`path` (a local path, perhaps with a query and a #fragment) with `params` added to its query, the fragment
    kept last: the way a form opened from another page sends the staff back with what they made
    (`…/from-word/?resume=x#f-3-12` + made=学习.次数 → `…?resume=x&made=%E5%AD%A6…#f-3-12`)."""
    from urllib.parse import urlencode

    base, hash_, fragment = path.partition("#")
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}{urlencode(params)}{hash_}{fragment}"
