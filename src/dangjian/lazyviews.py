"""Views named in a URLconf but imported when first asked for.

A command resolves its links (a report's evidence links) against the URL patterns; importing every view module
behind them would bring in the schema and spreadsheet layers at every start-up. `lazy("dangjian.x.views.name")`
stands in the pattern and imports the module on the first request. Decorators stay on the real view, which the
stand-in calls; nothing in the project reads attributes off a resolved view (CSRF exemptions are only the API's,
whose views are not lazy).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy(dotted: str) -> Callable[..., Any]:
    module_name, name = dotted.rsplit(".", 1)

    def view(request: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module_name), name)(request, *args, **kwargs)

    view.__name__ = name
    view.__qualname__ = name
    view.__module__ = module_name
    return view
