"""The NinjaAPI object: authentication, Chinese errors, and the routers of each resource."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from . import errors
from .auth import TokenAuth

DESCRIPTION = """党建台账的数据接口。每个账号在“修改密码”页的“API 令牌”中创建自己的令牌（或由管理员运行
dangjian token create 用户名 [--days N]），请求时放在请求头 Authorization: Bearer 令牌 中。
令牌与其账号的权限完全相同：看得到的单位、台账和记录，敏感字段打码，涉密台账只给成员明细、给其他人汇总数。
列表分页（page、page_size ≤ 200，返回 count），筛选参数与网页列表相同。写入走与网页表单相同的校验，
出错时返回 400 和中文说明（指明行、字段），不写入任何数据。"""


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 Chinese as it is (not \\uXXXX escapes), like the web's JSON twins."""

    json_dumps_params = {"ensure_ascii": False}
    encoder_class = NinjaJSONEncoder


api = NinjaAPI(
    title="党建台账数据接口",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    renderer=ChineseJSONRenderer(),
    urls_namespace="api",
    docs_url=None,  # our own Chinese page, without a CDN (docs.py)
    openapi_url="/openapi.json",
)


def _answer(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(errors.Problem)
def _problem(request: HttpRequest, exc: errors.Problem) -> HttpResponse:
    return _answer(request, exc.status, exc.body())


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _problem(request, errors.from_validation(exc.errors))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _answer(request, exc.status_code, {"detail": exc.message})
    if exc.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="dangjian"'
    return response


# django-ninja's own refusals, in Chinese.
NINJA_MESSAGES = {
    "Cannot parse request body": "请求体不是有效的 JSON，未作任何修改",
    "Too many requests.": "请求过于频繁，请稍后再试",
}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _answer(request, exc.status_code, {"detail": NINJA_MESSAGES.get(exc.message, exc.message)})


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _answer(request, 404, {"detail": "没有找到该对象，或您无权查看"})


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _answer(request, 403, {"detail": str(exc) or "您无权进行该操作"})


def _register() -> None:
    from .figures import router as figures
    from .records import router as records
    from .work import router as work

    api.add_router("", records)
    api.add_router("", figures)
    api.add_router("", work)


_register()
