"""API.md §5 articles: who may write, the JSON, pagination, soft delete, and the page view that
every read adds exactly once — also under 50 concurrent reads — on both stacks."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest

ARTICLE_KEYS = {"id", "title", "content", "user", "user_name", "page_view", "create_time", "update_time"}


def page_view_in_db(article_id: int) -> int:
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.community import Article

    with session_scope() as session:
        return session.scalar(select(Article.page_view).where(Article.id == article_id))


# --- auth ------------------------------------------------------------------------------------


def test_anonymous_cannot_list_read_or_write_articles(client, make_article, student):
    article = make_article(student)
    assert client.get("/api/community/articles").status_code == 401
    assert client.get(f"/api/community/articles/{article.id}").status_code == 401
    assert client.post("/api/community/articles", json={"title": "t", "content": "c"}).status_code == 401
    assert client.patch(f"/api/community/articles/{article.id}", json={"title": "t"}).status_code == 401
    assert client.delete(f"/api/community/articles/{article.id}").status_code == 401
    assert page_view_in_db(article.id) == 0


# --- create ------------------------------------------------------------------------------------


def test_any_signed_in_user_posts_an_article_as_its_author(client, student):
    response = client.as_user(student).post(
        "/api/community/articles",
        json={
            "title": "我的第一篇文章",
            "content": "Python 中的列表推导式",
            "user": 999,
            "page_view": 1000,
            "id": 10**9,
            "extra": "ignored",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == ARTICLE_KEYS
    assert body["title"] == "我的第一篇文章" and body["content"] == "Python 中的列表推导式"
    assert body["user"] == student.id and body["user_name"] == student.username
    assert body["page_view"] == 0 and body["id"] != 10**9
    assert body["create_time"].endswith("+08:00")
    listed = client.as_user(student).get("/api/community/articles").json()
    assert [a["id"] for a in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"content": "正文"}, "title"),
        ({"title": "标题"}, "content"),
        ({"title": "   ", "content": "正文"}, "title"),
        ({"title": "x" * 201, "content": "正文"}, "title"),
        ({"title": 5, "content": "正文"}, "title"),
    ],
)
def test_invalid_article_is_400_with_field_errors_and_nothing_stored(client, student, payload, field):
    response = client.as_user(student).post("/api/community/articles", json=payload)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert client.as_user(student).get("/api/community/articles").json()["count"] == 0


# --- list and read -----------------------------------------------------------------------------


def test_articles_are_listed_newest_first_paginated_with_user_name(client, make_article, teacher, student):
    made = [
        make_article(teacher if i % 2 else student, title=f"文章{i}", age=timedelta(minutes=60 - i)) for i in range(12)
    ]
    api = client.as_user(student)
    first = api.get("/api/community/articles?size=5").json()
    assert first["count"] == 12
    assert [a["id"] for a in first["results"]] == [a.id for a in reversed(made)][:5]
    assert first["next"] == "/api/community/articles?size=5&page=2" and first["previous"] is None
    by_id = {a["id"]: a for a in first["results"]}
    assert by_id[made[11].id]["user_name"] == teacher.username
    assert by_id[made[10].id]["user_name"] == student.username
    last = api.get("/api/community/articles?size=5&page=3").json()
    assert [a["id"] for a in last["results"]] == [made[1].id, made[0].id] and last["next"] is None
    window = api.get("/api/community/articles?limit=2&offset=2").json()
    assert [a["id"] for a in window["results"]] == [made[9].id, made[8].id]


def test_reading_an_article_adds_exactly_one_page_view(client, make_article, teacher, student):
    article = make_article(teacher, title="Chalice 入门", content="无服务器")
    api = client.as_user(student)
    seen = [api.get(f"/api/community/articles/{article.id}").json() for _ in range(3)]
    assert [a["page_view"] for a in seen] == [1, 2, 3]
    assert set(seen[0]) == ARTICLE_KEYS
    assert seen[0]["title"] == "Chalice 入门" and seen[0]["user_name"] == teacher.username
    # listing shows the count without adding to it
    assert api.get("/api/community/articles").json()["results"][0]["page_view"] == 3
    assert api.get("/api/community/articles").json()["results"][0]["page_view"] == 3
    assert page_view_in_db(article.id) == 3


def test_reading_is_not_an_edit_update_time_and_list_order_stay(client, make_article, student):
    older = make_article(student, title="旧文章", age=timedelta(hours=2))
    newer = make_article(student, title="新文章", age=timedelta(hours=1))
    api = client.as_user(student)
    before = api.get("/api/community/articles").json()["results"]
    read = api.get(f"/api/community/articles/{older.id}").json()
    after = api.get("/api/community/articles").json()["results"]
    assert [a["id"] for a in after] == [a["id"] for a in before] == [newer.id, older.id]
    assert read["update_time"] == before[1]["update_time"] == after[1]["update_time"]


def test_trailing_slash_works_for_articles(client, make_article, student):
    article = make_article(student)
    api = client.as_user(student)
    assert api.get("/api/community/articles/").status_code == 200
    assert api.get(f"/api/community/articles/{article.id}/").json()["page_view"] == 1


@pytest.mark.parametrize("article_id", ["999999", "abc"])
def test_unknown_article_is_404_for_every_method(client, student, article_id):
    api = client.as_user(student)
    url = f"/api/community/articles/{article_id}"
    for response in (
        api.get(url),
        api.put(url, json={"title": "t", "content": "c"}),
        api.patch(url, json={"title": "t"}),
        api.delete(url),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


# --- change and delete -------------------------------------------------------------------------


def test_author_puts_and_patches_and_the_article_moves_to_the_top(client, make_article, student):
    edited = make_article(student, title="旧标题", content="旧正文", age=timedelta(hours=2), page_view=7)
    other = make_article(student, title="别的", age=timedelta(hours=1))
    api = client.as_user(student)
    put = api.put(f"/api/community/articles/{edited.id}", json={"title": "新标题", "content": "新正文"})
    assert put.status_code == 200, put.text
    assert put.json()["title"] == "新标题" and put.json()["content"] == "新正文"
    assert put.json()["page_view"] == 7  # editing is not reading
    patch = api.patch(f"/api/community/articles/{edited.id}", json={"content": "再改"})
    assert patch.status_code == 200
    assert patch.json()["title"] == "新标题" and patch.json()["content"] == "再改"
    assert patch.json()["update_time"] > patch.json()["create_time"]
    listed = api.get("/api/community/articles").json()["results"]
    assert [a["id"] for a in listed] == [edited.id, other.id]


def test_put_needs_every_field(client, make_article, student):
    article = make_article(student)
    response = client.as_user(student).put(f"/api/community/articles/{article.id}", json={"title": "只改标题"})
    assert response.status_code == 400 and "content" in response.json()["errors"]


def test_read_only_fields_cannot_be_changed(client, make_article, student, teacher):
    article = make_article(student, page_view=3)
    response = client.as_user(student).patch(
        f"/api/community/articles/{article.id}", json={"page_view": 100000, "user": teacher.id, "title": "改"}
    )
    assert response.status_code == 200
    assert response.json()["page_view"] == 3 and response.json()["user"] == student.id
    assert page_view_in_db(article.id) == 3


def test_another_user_cannot_change_or_delete_an_article(client, make_article, make_user, student, teacher):
    article = make_article(student, title="学生的文章")
    for other in (teacher, make_user("student")):
        api = client.as_user(other)
        assert api.get(f"/api/community/articles/{article.id}").status_code == 200  # readable by all
        for response in (
            api.put(f"/api/community/articles/{article.id}", json={"title": "x", "content": "y"}),
            api.patch(f"/api/community/articles/{article.id}", json={"title": "x"}),
            api.delete(f"/api/community/articles/{article.id}"),
        ):
            assert response.status_code == 403
            assert response.json()["code"] == "permission_denied"
    body = client.as_user(student).get(f"/api/community/articles/{article.id}").json()
    assert body["title"] == "学生的文章"


def test_superuser_changes_and_deletes_anyones_article(client, make_article, superuser, student):
    article = make_article(student)
    api = client.as_user(superuser)
    patched = api.patch(f"/api/community/articles/{article.id}", json={"title": "管理员改的"})
    assert patched.status_code == 200 and patched.json()["user"] == student.id
    assert patched.json()["user_name"] == student.username
    assert api.delete(f"/api/community/articles/{article.id}").status_code == 204


def test_delete_is_soft_204_then_404_and_gone_from_lists(client, make_article, student):
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.community import Article

    kept = make_article(student, title="留下")
    gone = make_article(student, title="删掉")
    api = client.as_user(student)
    response = api.delete(f"/api/community/articles/{gone.id}")
    assert response.status_code == 204 and response.content == b""
    assert api.get(f"/api/community/articles/{gone.id}").status_code == 404
    assert api.delete(f"/api/community/articles/{gone.id}").status_code == 404
    assert api.patch(f"/api/community/articles/{gone.id}", json={"title": "复活"}).status_code == 404
    listed = api.get("/api/community/articles").json()
    assert listed["count"] == 1 and [a["id"] for a in listed["results"]] == [kept.id]
    with session_scope() as session:  # still there, only marked
        assert session.scalar(select(Article.is_delete).where(Article.id == gone.id)) is True
        assert session.scalar(select(Article.page_view).where(Article.id == gone.id)) == 0


# --- concurrency -------------------------------------------------------------------------------


def test_50_concurrent_reads_raise_page_view_by_exactly_50(client, make_article, make_user, teacher):
    """Each thread is its own HTTP request through the front door, with its own DB session and
    connection; a read-modify-write would lose counts here, the atomic UPDATE can't."""
    readers = [client.as_user(make_user("student")) for _ in range(5)]
    article = make_article(teacher, page_view=10)
    start = Barrier(50)

    def read(i: int):
        start.wait(timeout=30)
        return readers[i % len(readers)].get(f"/api/community/articles/{article.id}")

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(read, range(50)))
    assert [r.status_code for r in responses] == [200] * 50, {r.status_code: r.text for r in responses}
    assert page_view_in_db(article.id) == 60
    # every read counted its own view: the values seen are exactly 11..60, each once
    assert sorted(r.json()["page_view"] for r in responses) == list(range(11, 61))
