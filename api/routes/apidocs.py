"""The interactive API documentation at ``/docs``, served whole from this server.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and its favicon from
fastapi.tiangolo.com, so without internet it is a blank page. The Swagger UI files come
from the ``swagger-ui-bundle-v2`` package instead (Swagger UI 5: FastAPI's schema is
OpenAPI 3.1, which the 4.x of ``swagger-ui-bundle`` cannot render), mounted at
``ASSETS_URL`` by ``create_app``. ReDoc is left out: one interactive page is enough.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from swagger_ui_bundle import swagger_ui_path

router = APIRouter(include_in_schema=False)
ASSETS_URL = "/static/swagger"
ASSETS_DIR = Path(str(swagger_ui_path))  # a real folder in the installed package
# validatorUrl: Swagger UI would otherwise send the schema to validator.swagger.io.
PARAMETERS = {"validatorUrl": None}


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``; every URL on the page is on this server."""
    root = request.scope.get("root_path", "").rstrip("/")
    assets = root + ASSETS_URL
    return get_swagger_ui_html(
        openapi_url=root + (request.app.openapi_url or "/openapi.json"),
        title=f"{request.app.title} API",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon-32x32.png",
        swagger_ui_parameters=PARAMETERS)
