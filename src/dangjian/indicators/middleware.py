"""Every figure computed while answering a request is computed for the user who asked.

Reports, checks, comparisons with a finalised run and evidence pages all reach the engine; setting the viewer once
per request (instead of threading a user through each of them) means no page can show a confidential figure the
rules withhold from its reader (保密规则, `access.figure_access`), whichever stage computes it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .engine import viewing_as


class ViewerMiddleware:
    """Put after AuthenticationMiddleware: evaluates indicators inside the request as `request.user`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with viewing_as(request.user):
            return self.get_response(request)
