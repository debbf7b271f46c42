"""The meta function: what this API is (``/api/``), its OpenAPI document (``/api/openapi.json``)
and an interactive reference (``/api/docs``, Swagger UI served from the installed package).

Its prefix in routes.yaml is empty: it serves the root of ``/api``, so every front door (the local
runtime, the generated Nginx config, API Gateway) publishes it like any other function.
"""

from chalice import Response

from studyhub.http import Req, apidocs, create_app
from studyhub.http.routedoc import HTML, OPENAPI

app, api = create_app("meta")
api.health(prefix="", backends=False)

ASSET_PARAM = {"asset": {"type": "string", "enum": sorted(apidocs.ASSETS)}}


@api.route("/", db=False, auth="none", response="DiscoveryPublic", summary="接口概览")
def discovery(_req: Req):
    return apidocs.discovery()


@api.route("/openapi.json", db=False, auth="none", response=OPENAPI, summary="OpenAPI 3.1 文档")
def openapi_document(_req: Req):
    return Response(
        body=apidocs.document_bytes().decode("utf-8"),
        status_code=200,
        headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache"},
    )


@api.route("/docs", db=False, auth="none", response=HTML, summary="交互式接口文档（Swagger UI）")
def docs_page(_req: Req):
    return Response(body=apidocs.page(), status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@api.route(
    "/docs/{asset}",
    db=False,
    auth="none",
    response=apidocs.ASSET_TYPES,
    path_params=ASSET_PARAM,
    summary="文档页的静态文件",
)
def docs_asset(_req: Req, asset: str):
    data, content_type = apidocs.asset(asset)
    return Response(
        body=data.decode("utf-8"),
        status_code=200,
        headers={"Content-Type": content_type, "Cache-Control": "public, max-age=86400"},
    )
