"""Topic search on the embedded index (tantivy + jieba under var/search/), on both stacks:
the shared behaviour tests, plus what only this backend has (its file, its failure, its
highlighter)."""

import pytest
from work_fixtures import break_index, restore_index, search
from work_search_behaviour import *  # noqa: F403 - the shared behaviour tests, run on this backend


def test_the_embedded_backend_is_the_default(search_index):
    from studyhub.clients.search import EmbeddedSearch
    from studyhub.core.config import get_settings

    assert isinstance(search_index, EmbeddedSearch)
    assert search_index.root == get_settings().var_dir / "search"
    live = search_index.current_file.read_text().strip()
    assert (search_index.root / live / "meta.json").is_file()  # a tantivy index on disk


@pytest.fixture
def broken_index(search_index):
    """The index unusable for the test; ``restore()`` brings it back (empty, as after a loss)."""
    root = search_index.root
    break_index(root)
    yield lambda: restore_index(root)
    restore_index(root)


def test_search_answers_503_when_the_index_is_unusable_and_writes_still_succeed(
    client, teacher, make_label, broken_index
):
    api = client.as_user(teacher)
    label = api.post("/api/work/labels", json={"name": "索引坏了也能写"}).json()
    response = search(api, "列表")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable" and "search" in response.json()["detail"]
    created = api.post("/api/work/topics", json={"subject": "索引坏了的时候写的题", "type": 0, "label": label["id"]})
    assert created.status_code == 201
    assert api.get(f"/api/work/topics/{created.json()['id']}").status_code == 200
    health = client.get("/api/work/health")
    assert health.status_code == 503 and health.json()["checks"]["search"] == "unavailable"


def test_the_index_job_fails_while_the_index_is_unusable_then_catches_up(
    client, teacher, make_label, make_topic, broken_index
):
    from jobs.tasks.work import index_topic
    from studyhub.core.errors import Unavailable

    topic = make_topic(teacher, make_label(teacher), "宕机期间写入的题目")
    with pytest.raises(Unavailable):
        index_topic(topic.id)  # the worker retries it (autoretry on Unavailable)
    broken_index()
    assert index_topic(topic.id) == 1
    body = search(client.as_user(teacher), "宕机").json()
    assert [r["id"] for r in body["results"]] == [topic.id]


def test_highlight_escapes_like_lucene_and_merges_overlapping_terms():
    from studyhub.clients.search import escape_html, highlight

    assert escape_html("<a href='/x'>\"&\"</a>") == "&lt;a href=&#x27;&#x2F;x&#x27;&gt;&quot;&amp;&quot;&lt;&#x2F;a&gt;"
    assert highlight("列表推导式", ["推导", "推导式", "列表"]) == (
        "<span style='color:red;'>列表</span><span style='color:red;'>推导式</span>"
    )
    # English terms match whole words only; Chinese ones wherever they occur
    assert highlight("listing a list", ["list"]) == "listing a <span style='color:red;'>list</span>"
    assert highlight("İstanbul list", ["list"]) == "İstanbul <span style='color:red;'>list</span>"


def test_query_terms_drop_punctuation_and_function_words():
    from studyhub.clients.search import query_terms

    assert query_terms("Python中的列表？") == ["python", "中", "列表"]
    assert query_terms("的") == ["的"]  # nothing else left: kept
    assert query_terms("？！") == []
