"""Route declarations name their models by a string (``response="TopicPublic"``): the OpenAPI
generator resolves each name in the function's schema modules, then the shared ones, and a name
it can't resolve stops the document with the route and the name (routedoc.py)."""

from __future__ import annotations

import pytest

from studyhub.core.routing import Function, Routing
from studyhub.http.app import StudyHubApp
from studyhub.http.binder import Api
from studyhub.http.openapi import build_document
from studyhub.http.routedoc import PNG, UnknownSchema, resolve_doc

WORK_SCHEMAS = "studyhub.domain.work.schemas"


def document_for(**contract):
    """The document of a one-route function whose route declares ``contract``."""
    app = StudyHubApp("studyhub-probe", schemas=WORK_SCHEMAS)
    api = Api(app, "probe")

    @api.route("/probe/things", methods=["GET", "POST"], **contract)
    def things(_req):
        return {}

    routing = Routing(
        prefix="/api",
        functions={"probe": Function(name="probe", prefix="/probe", routes=(("/probe/things", ("GET", "POST")),))},
        jobs=(),
    )
    return build_document(routing, {"probe": app}, version="0")


def test_a_name_resolves_to_the_same_schema_as_the_class():
    from studyhub.domain.work.schemas import TopicFilters, TopicIn, TopicPublic

    by_name = document_for(body={"POST": "TopicIn"}, response="TopicPublic", query={"GET": "TopicFilters"})
    by_class = document_for(body={"POST": TopicIn}, response=TopicPublic, query={"GET": TopicFilters})
    assert by_name == by_class


def test_shared_models_and_media_types_resolve():
    document = document_for(response={"GET": "HealthPublic", "POST": PNG})
    operations = document["paths"]["/probe/things"]
    assert operations["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HealthPublic"
    }
    assert list(operations["post"]["responses"]["200"]["content"]) == [PNG]


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ({"response": "TopicPublik"}, "no model named 'TopicPublik'"),
        ({"body": {"POST": "TopicInn"}}, "body[POST]: no model named 'TopicInn'"),
        ({"response": ("TopicPublic", "Nope")}, "no model named 'Nope'"),
        ({"query": {"GET": "Id"}}, "'Id' in studyhub.domain.work.schemas is not a pydantic model"),
        ({"response": "Topic Public"}, "'Topic Public' is neither a media type"),
    ],
)
def test_an_unknown_name_fails_the_document_naming_the_route_and_the_name(contract, message):
    with pytest.raises(UnknownSchema) as failure:
        document_for(**contract)
    text = str(failure.value)
    assert text.startswith("probe: GET,POST /probe/things (things)"), text
    assert message in text, text


def test_resolution_leaves_classes_media_types_and_other_fields_alone():
    from studyhub.domain.work.schemas import LabelIn
    from studyhub.http.routedoc import RouteDoc

    doc = RouteDoc(summary="x", auth="none", body={"PUT": LabelIn, "PATCH": "LabelIn"}, response=PNG)
    resolved = resolve_doc(doc, (WORK_SCHEMAS,), where="here")
    assert resolved.body == {"PUT": LabelIn, "PATCH": LabelIn}
    assert resolved.response == PNG and resolved.auth == "none" and resolved.summary == "x"
