"""API.md §5 comments: top-level comments of an article, paginated, each with its replies (newest
first, ``reply_username`` = the author answered), replies to replies under the same top-level
comment, ``parent_comment`` of another article 400, unknown article 400, soft delete, and a
statement count that does not grow with the number of comments — on both stacks."""

import pytest

COMMENT_KEYS = {
    "id",
    "article",
    "content",
    "user",
    "user_name",
    "user_avatar",
    "parent_comment",
    "create_time",
    "sonComments",
}
REPLY_KEYS = COMMENT_KEYS - {"sonComments"} | {"reply_username"}


def comments_of(api, article_id, query=""):
    response = api.get(f"/api/community/comments?article={article_id}{query}")
    assert response.status_code == 200, response.text
    return response.json()


# --- posting -------------------------------------------------------------------------------------


def test_anonymous_cannot_list_post_or_delete_comments(client, make_article, make_comment, student):
    article = make_article(student)
    comment = make_comment(student, article)
    assert client.get(f"/api/community/comments?article={article.id}").status_code == 401
    assert client.post("/api/community/comments", json={"article": article.id, "content": "x"}).status_code == 401
    assert client.delete(f"/api/community/comments/{comment.id}").status_code == 401


def test_top_level_comment_is_201_with_the_comment_json(client, make_article, teacher, student):
    article = make_article(teacher)
    response = client.as_user(student).post(
        "/api/community/comments",
        json={"article": article.id, "content": "老师讲得真清楚 👍", "user": teacher.id, "id": 77},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == COMMENT_KEYS
    assert body["article"] == article.id and body["content"] == "老师讲得真清楚 👍"
    assert body["user"] == student.id and body["user_name"] == student.username
    assert body["user_avatar"] is None and body["parent_comment"] is None
    assert body["sonComments"] == [] and body["create_time"].endswith("+08:00")
    listed = comments_of(client.as_user(teacher), article.id)
    assert listed["count"] == 1 and listed["results"][0] == body


def test_reply_names_the_author_it_answers_and_a_reply_to_a_reply_stays_in_the_thread(
    client, make_article, make_user, teacher, student
):
    alice, bob = make_user("student", username="alice"), make_user("student", username="bob")
    article = make_article(teacher)
    top = (
        client.as_user(teacher)
        .post("/api/community/comments", json={"article": article.id, "content": "欢迎讨论"})
        .json()
    )
    reply = client.as_user(alice).post(
        "/api/community/comments", json={"article": article.id, "content": "我有个问题", "parent_comment": top["id"]}
    )
    assert reply.status_code == 201, reply.text
    reply = reply.json()
    assert set(reply) == REPLY_KEYS
    assert reply["user_name"] == "alice" and reply["parent_comment"] == top["id"]
    assert reply["reply_username"] == teacher.username  # not the replier's own name (the seed's bug)
    nested = (
        client.as_user(bob)
        .post(
            "/api/community/comments",
            json={"article": article.id, "content": "我也想知道", "parent_comment": reply["id"]},
        )
        .json()
    )
    assert nested["reply_username"] == "alice" and nested["parent_comment"] == reply["id"]

    listed = comments_of(client.as_user(student), article.id)
    assert listed["count"] == 1  # only top-level comments are counted and paginated
    thread = listed["results"][0]
    assert thread["id"] == top["id"] and thread["user_name"] == teacher.username
    assert [r["id"] for r in thread["sonComments"]] == [nested["id"], reply["id"]]  # newest first
    assert thread["sonComments"] == [nested, reply]
    assert all(set(r) == REPLY_KEYS for r in thread["sonComments"])


def test_top_level_comments_are_paginated_newest_first_each_with_replies_newest_first(
    client, make_article, make_comment, teacher, student
):
    article = make_article(teacher)
    tops = [make_comment(student, article, content=f"评论{i}") for i in range(12)]
    replies = [make_comment(teacher, article, tops[11], content=f"回复{i}") for i in range(3)]
    api = client.as_user(student)
    first = comments_of(api, article.id, "&size=5")
    assert first["count"] == 12
    assert [c["id"] for c in first["results"]] == [c.id for c in reversed(tops)][:5]
    assert first["next"] == f"/api/community/comments?article={article.id}&size=5&page=2"
    assert [r["id"] for r in first["results"][0]["sonComments"]] == [r.id for r in reversed(replies)]
    assert all(r["reply_username"] == student.username for r in first["results"][0]["sonComments"])
    assert all(c["sonComments"] == [] for c in first["results"][1:])
    last = comments_of(api, article.id, "&size=5&page=3")
    assert [c["id"] for c in last["results"]] == [tops[1].id, tops[0].id] and last["next"] is None
    assert last["previous"] == f"/api/community/comments?article={article.id}&size=5&page=2"


def test_comments_of_one_article_never_show_under_another(client, make_article, make_comment, student):
    first, second = make_article(student), make_article(student)
    mine = make_comment(student, first)
    make_comment(student, second)
    listed = comments_of(client.as_user(student), first.id)
    assert [c["id"] for c in listed["results"]] == [mine.id]


def test_user_avatar_is_the_public_url_of_the_authors_avatar(client, make_article, make_comment, student, teacher):
    from studyhub.core.db import session_scope
    from studyhub.models.users import User

    with session_scope() as session:
        session.get(User, teacher.id).avatar = "avatars/teacher.png"
    article = make_article(student)
    top = make_comment(teacher, article)
    make_comment(student, article, top)
    thread = comments_of(client.as_user(student), article.id)["results"][0]
    assert thread["user_avatar"] == "/api/media/avatars/teacher.png"
    assert thread["sonComments"][0]["user_avatar"] is None
    assert thread["sonComments"][0]["reply_username"] == teacher.username


# --- rules on posting --------------------------------------------------------------------------


def test_parent_comment_of_another_article_is_400_and_nothing_is_stored(client, make_article, make_comment, student):
    here, elsewhere = make_article(student), make_article(student)
    foreign = make_comment(student, elsewhere)
    response = client.as_user(student).post(
        "/api/community/comments", json={"article": here.id, "content": "串台了", "parent_comment": foreign.id}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parent_comment_mismatch"
    assert "parent_comment" in response.json()["errors"]
    assert comments_of(client.as_user(student), here.id)["count"] == 0
    assert comments_of(client.as_user(student), elsewhere.id)["results"][0]["sonComments"] == []


def test_unknown_or_deleted_parent_comment_is_400(client, make_article, make_comment, student):
    article = make_article(student)
    deleted = make_comment(student, article)
    api = client.as_user(student)
    assert api.delete(f"/api/community/comments/{deleted.id}").status_code == 204
    for parent in (999999, deleted.id):
        response = api.post(
            "/api/community/comments", json={"article": article.id, "content": "回复", "parent_comment": parent}
        )
        assert response.status_code == 400
        assert response.json()["code"] == "parent_comment_not_found"
        assert "parent_comment" in response.json()["errors"]


def test_replying_inside_a_deleted_thread_is_400(client, make_article, make_comment, student):
    article = make_article(student)
    top = make_comment(student, article)
    reply = make_comment(student, article, top)
    api = client.as_user(student)
    assert api.delete(f"/api/community/comments/{top.id}").status_code == 204
    response = api.post(
        "/api/community/comments", json={"article": article.id, "content": "还有人吗", "parent_comment": reply.id}
    )
    assert response.status_code == 400 and response.json()["code"] == "parent_comment_not_found"


def test_unknown_article_is_400_when_posting_and_listing(client, make_article, student):
    """As DRF answers it: the ``article`` of a comment is a related-field value (and a filter
    value when listing), so an unknown or deleted one is a 400 on that field, not a 404."""
    deleted = make_article(student)
    api = client.as_user(student)
    assert api.delete(f"/api/community/articles/{deleted.id}").status_code == 204
    for article_id in (999999, deleted.id):
        posted = api.post("/api/community/comments", json={"article": article_id, "content": "在吗"})
        listed = api.get(f"/api/community/comments?article={article_id}")
        for response in (posted, listed):
            assert response.status_code == 400
            assert response.json()["code"] == "article_not_found"
            assert response.json()["errors"]["article"] == [f"无效主键 “{article_id}” － 对象不存在。"]


@pytest.mark.parametrize("query", ["", "?article=", "?article=abc"])
def test_listing_comments_needs_a_valid_article(client, student, query):
    response = client.as_user(student).get(f"/api/community/comments{query}")
    assert response.status_code == 400
    assert "article" in response.json()["errors"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"content": "没有文章"}, "article"),
        ({"article": "abc", "content": "x"}, "article"),
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "x" * 5001}, "content"),
        ({"content": "x", "parent_comment": "abc"}, "parent_comment"),
    ],
)
def test_invalid_comment_is_400_with_field_errors(client, make_article, student, payload, field):
    article = make_article(student)
    body = {"article": article.id, **payload} if "article" not in payload and field != "article" else payload
    response = client.as_user(student).post("/api/community/comments", json=body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert comments_of(client.as_user(student), article.id)["count"] == 0


# --- delete --------------------------------------------------------------------------------------


def test_author_deletes_a_comment_softly_204_then_404(client, make_article, make_comment, student):
    from sqlalchemy import select

    from studyhub.core.db import session_scope
    from studyhub.models.community import Comment

    article = make_article(student)
    comment = make_comment(student, article)
    api = client.as_user(student)
    response = api.delete(f"/api/community/comments/{comment.id}")
    assert response.status_code == 204 and response.content == b""
    assert api.delete(f"/api/community/comments/{comment.id}").status_code == 404
    assert comments_of(api, article.id)["count"] == 0
    with session_scope() as session:
        assert session.scalar(select(Comment.is_delete).where(Comment.id == comment.id)) is True


def test_another_user_cannot_delete_a_comment_but_a_superuser_can(
    client, make_article, make_comment, superuser, teacher, student
):
    article = make_article(teacher)  # even the article's author can't delete others' comments
    comment = make_comment(student, article)
    response = client.as_user(teacher).delete(f"/api/community/comments/{comment.id}")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert comments_of(client.as_user(student), article.id)["count"] == 1
    assert client.as_user(superuser).delete(f"/api/community/comments/{comment.id}").status_code == 204
    assert comments_of(client.as_user(student), article.id)["count"] == 0


@pytest.mark.parametrize("comment_id", ["999999", "abc"])
def test_deleting_an_unknown_comment_is_404(client, student, comment_id):
    response = client.as_user(student).delete(f"/api/community/comments/{comment_id}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_deleted_reply_disappears_but_answers_to_it_still_name_its_author(
    client, make_article, make_comment, make_user, teacher, student
):
    other = make_user("student", username="carol")
    article = make_article(teacher)
    top = make_comment(teacher, article)
    reply = make_comment(student, article, top)
    answer = make_comment(other, article, reply)
    assert client.as_user(student).delete(f"/api/community/comments/{reply.id}").status_code == 204
    thread = comments_of(client.as_user(teacher), article.id)["results"][0]
    assert [r["id"] for r in thread["sonComments"]] == [answer.id]
    assert thread["sonComments"][0]["reply_username"] == student.username


def test_deleting_a_top_level_comment_takes_its_thread_out_of_the_list(
    client, make_article, make_comment, teacher, student
):
    article = make_article(teacher)
    kept = make_comment(student, article)
    gone = make_comment(teacher, article)
    make_comment(student, article, gone)
    assert client.as_user(teacher).delete(f"/api/community/comments/{gone.id}").status_code == 204
    listed = comments_of(client.as_user(student), article.id)
    assert listed["count"] == 1 and [c["id"] for c in listed["results"]] == [kept.id]


def test_comments_of_a_deleted_article_can_no_longer_be_deleted(client, make_article, make_comment, student):
    article = make_article(student)
    comment = make_comment(student, article)
    assert client.as_user(student).delete(f"/api/community/articles/{article.id}").status_code == 204
    assert client.as_user(student).delete(f"/api/community/comments/{comment.id}").status_code == 404


def test_a_single_comment_cannot_be_read_only_edited_or_deleted(client, make_article, make_comment, student):
    comment = make_comment(student, make_article(student))
    response = client.as_user(student).get(f"/api/community/comments/{comment.id}")
    assert response.status_code == 405 and response.headers["allow"] == "DELETE, PATCH, PUT"


# --- query count ---------------------------------------------------------------------------------


def count_statements(api, url):
    """The SQL statements one request runs, counted on the engine every request uses."""
    from sqlalchemy import event

    from studyhub.core.db import get_engine

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = get_engine()
    api.get(url)  # the caller is read once, then kept by the process (http/auth.py): count the list's own
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = api.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    return response.json(), statements


def test_listing_comments_runs_the_same_number_of_statements_for_2_or_20_threads(
    client, make_article, make_comment, make_user, teacher
):
    """A page of top-level comments, all their replies and all their authors load in a fixed
    number of queries: no query per comment, per reply or per author."""
    reader = client.as_user(teacher)
    counts = {}
    for threads in (2, 20):
        article = make_article(teacher)
        for _ in range(threads):
            author, replier, answerer = (make_user("student") for _ in range(3))
            top = make_comment(author, article)
            reply = make_comment(replier, article, top)
            make_comment(answerer, article, reply)  # a reply to a reply
        body, statements = count_statements(reader, f"/api/community/comments?article={article.id}&size=20")
        assert len(body["results"]) == threads
        assert all(len(c["sonComments"]) == 2 for c in body["results"])
        assert all(c["sonComments"][0]["reply_username"] == c["sonComments"][1]["user_name"] for c in body["results"])
        counts[threads] = len(statements)
    assert counts[2] == counts[20], counts
    assert counts[20] <= 10, counts  # auth (user + groups), article, count, page, replies, authors


# --- demo data -----------------------------------------------------------------------------------


def test_demo_articles_show_threads_through_the_api_and_seed_only_once(client, make_user):
    from studyhub.core.db import session_scope
    from studyhub.domain.community.demo import seed_demo_articles

    teacher1 = make_user("teacher", username="teacher1")
    make_user("student", username="student1")
    make_user("student", username="student2")
    with session_scope() as session:
        assert seed_demo_articles(session) == 8
    with session_scope() as session:
        assert seed_demo_articles(session) == 0
    api = client.as_user(teacher1)
    articles = api.get("/api/community/articles").json()
    assert articles["count"] == 3
    first = next(a for a in articles["results"] if a["title"] == "Python 中的列表推导式")
    threads = comments_of(api, first["id"])["results"]
    assert len(threads) == 2
    answered = next(t for t in threads if t["sonComments"])
    assert [(r["user_name"], r["reply_username"]) for r in answered["sonComments"]] == [
        ("student2", "teacher1"),
        ("teacher1", "student1"),
    ]
