"""Topic search on Elasticsearch (``ELASTICSEARCH_URL``), on both stacks.

The shared behaviour tests and the alias/analyzer tests need a real cluster: they run when
``ELASTICSEARCH_URL`` (or ``TEST_ELASTICSEARCH_URL``) is set when pytest starts, and skip with
that reason otherwise (no Elasticsearch server can be installed on the development machines),
reported as NOT RUN at the end of every run, CI's included (see ``missing`` in conftest).
Each run uses its own alias, ``studyhub-test-<run>-<stack>``, and deletes its indices after
every test. The "cluster can't be reached" tests need no cluster and always run.
"""

import os

import pytest
from conftest import RUN_ID, free_port, missing
from work_fixtures import search
from work_search_behaviour import *  # noqa: F403 - the shared behaviour tests, run on this backend

# Read at import: the stack fixture clears ELASTICSEARCH_URL from the environment of every test.
ES_URL = os.environ.get("TEST_ELASTICSEARCH_URL") or os.environ.get("ELASTICSEARCH_URL")
NO_CLUSTER = (
    "no Elasticsearch cluster (none can be installed here): set ELASTICSEARCH_URL (e.g. http://127.0.0.1:9200)"
    " to run these tests"
)


def use_elasticsearch(url: str, alias: str) -> None:
    from studyhub.clients import search
    from studyhub.core import config

    os.environ["ELASTICSEARCH_URL"] = url
    os.environ["ELASTICSEARCH_INDEX"] = alias
    config.reset()
    search.reset()


def stop_using_elasticsearch() -> None:
    from studyhub.clients import search
    from studyhub.core import config

    os.environ.pop("ELASTICSEARCH_URL", None)
    os.environ.pop("ELASTICSEARCH_INDEX", None)
    config.reset()
    search.reset()


@pytest.fixture
def search_backend(platform):
    """The real cluster, under an alias of this run and stack; its indices are deleted after."""
    if not ES_URL:
        missing(NO_CLUSTER, installable=False)
    alias = f"studyhub-test-{RUN_ID}-{platform.name}"
    use_elasticsearch(ES_URL, alias)
    yield "elasticsearch"
    from studyhub.clients.search import get_search

    try:
        get_search().client.indices.delete(index=f"{alias}-*", ignore_unavailable=True)
    finally:
        stop_using_elasticsearch()


@pytest.fixture
def unreachable_elasticsearch(platform):
    """``ELASTICSEARCH_URL`` pointing at a port where nothing listens."""
    use_elasticsearch(f"http://127.0.0.1:{free_port()}", f"studyhub-test-{RUN_ID}-down")
    yield
    stop_using_elasticsearch()


def test_search_answers_503_when_elasticsearch_is_down_and_writes_still_succeed(
    client, teacher, unreachable_elasticsearch
):
    api = client.as_user(teacher)
    label = api.post("/api/work/labels", json={"name": "搜索挂了"})
    assert label.status_code == 201
    created = api.post(
        "/api/work/topics", json={"subject": "搜索服务挂了的时候写的题", "type": 0, "label": label.json()["id"]}
    )
    assert created.status_code == 201
    assert api.get(f"/api/work/topics/{created.json()['id']}").status_code == 200
    response = search(api, "搜索")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    health = client.get("/api/work/health")
    assert health.status_code == 503 and health.json()["checks"]["search"] == "unavailable"


def test_index_job_raises_unavailable_for_a_retry_when_elasticsearch_is_down(
    teacher, make_label, make_topic, unreachable_elasticsearch
):
    from jobs.tasks.work import index_topic
    from studyhub.core.errors import Unavailable

    topic = make_topic(teacher, make_label(teacher))
    with pytest.raises(Unavailable):
        index_topic(topic.id)
    assert index_topic.autoretry_for == (Unavailable,) and index_topic.max_retries is None


def test_the_mapping_uses_ik_when_the_cluster_has_it_else_standard(search_index):
    body = search_index.index_body()
    subject = body["mappings"]["properties"]["subject"]
    analyzers = search_index.analyzers()
    assert (subject["analyzer"], subject["search_analyzer"]) == analyzers
    assert analyzers in {("ik_max_word", "ik_smart"), ("standard", "standard")}


def test_rebuild_moves_the_alias_to_one_new_index(client, teacher, make_label, make_topic, index, search_index):
    from studyhub.domain.work.search_sync import rebuild

    index(make_topic(teacher, make_label(teacher), "重建索引前的题目"))
    before = set(search_index.client.indices.get_alias(name=search_index.alias).body)
    assert rebuild() == 1
    after = set(search_index.client.indices.get_alias(name=search_index.alias).body)
    assert len(after) == 1 and after.isdisjoint(before)
    assert not search_index.client.indices.exists(
        index=",".join(before), allow_no_indices=False, ignore_unavailable=True
    )
    search_index.refresh()
    assert search(client.as_user(teacher), "重建").json()["count"] == 1
