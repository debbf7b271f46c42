"""The HTTP edge of every function: the route binder, ``Req``, validation, pagination, typed
parameters, uploads and JSON. Route modules import what they need from here."""

from __future__ import annotations

from studyhub.http.app import StudyHubApp
from studyhub.http.binder import create_app
from studyhub.http.pagination import page_links, page_of, page_window, paginate
from studyhub.http.params import int_param, path_id
from studyhub.http.request import Req
from studyhub.http.responses import Created, NoContent, json_response, text_response
from studyhub.http.uploads import UploadedFile

__all__ = [
    "Created",
    "NoContent",
    "Req",
    "StudyHubApp",
    "UploadedFile",
    "create_app",
    "int_param",
    "json_response",
    "page_links",
    "page_of",
    "page_window",
    "paginate",
    "path_id",
    "text_response",
]
