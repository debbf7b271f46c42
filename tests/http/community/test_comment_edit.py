"""API.md §5: the author edits a comment (`PUT/PATCH /community/comments/{id}` `{content}`) and it
keeps its place in its thread: comments and replies are ordered by creation time, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def backdate(comment_id, hours):
    """Created (and last changed) ``hours`` ago: an edit now is clearly later on every stack."""
    from sqlalchemy import update

    from studyhub.core.db import session_scope
    from studyhub.models.community import Comment

    when = datetime.now(UTC) - timedelta(hours=hours)
    with session_scope() as session:
        session.execute(update(Comment).where(Comment.id == comment_id).values(create_time=when, update_time=when))


def comments_of(api, article_id):
    response = api.get(f"/api/community/comments?article={article_id}")
    assert response.status_code == 200, response.text
    return response.json()["results"]


def post(api, article_id, content, parent=None):
    body = {"article": article_id, "content": content}
    if parent is not None:
        body["parent_comment"] = parent
    response = api.post("/api/community/comments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_author_edits_a_comment_and_it_keeps_its_place_in_the_list(client, make_article, teacher, student):
    article = make_article(teacher)
    api = client.as_user(student)
    older = post(api, article.id, "第一条")
    newer = post(api, article.id, "第二条")
    backdate(older["id"], 2)
    backdate(newer["id"], 1)
    older = next(c for c in comments_of(api, article.id) if c["id"] == older["id"])
    assert [c["id"] for c in comments_of(api, article.id)] == [newer["id"], older["id"]]

    response = api.put(f"/api/community/comments/{older['id']}", json={"content": "第一条（已修改）"})
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["content"] == "第一条（已修改）" and edited["create_time"] == older["create_time"]
    assert edited["id"] == older["id"] and edited["sonComments"] == []

    listed = comments_of(client.as_user(teacher), article.id)
    assert [c["id"] for c in listed] == [newer["id"], older["id"]]  # not moved to the top
    assert listed[1]["content"] == "第一条（已修改）"


def test_an_edited_reply_keeps_its_place_among_the_replies(client, make_article, teacher, student):
    article = make_article(teacher)
    api = client.as_user(student)
    thread = post(client.as_user(teacher), article.id, "提问")
    first = post(api, article.id, "回复一", parent=thread["id"])
    second = post(api, article.id, "回复二", parent=thread["id"])
    backdate(first["id"], 2)
    backdate(second["id"], 1)

    response = api.patch(f"/api/community/comments/{first['id']}", json={"content": "回复一（改）"})
    assert response.status_code == 200, response.text
    assert response.json()["reply_username"] == teacher.username
    assert response.json()["parent_comment"] == thread["id"]

    (listed,) = comments_of(api, article.id)
    assert [r["id"] for r in listed["sonComments"]] == [second["id"], first["id"]]
    assert listed["sonComments"][1]["content"] == "回复一（改）"


def test_only_the_author_may_edit_not_another_user_nor_a_superuser(
    client, make_article, make_comment, teacher, student, superuser
):
    article = make_article(teacher)
    comment = make_comment(student, article, content="原文")
    for other in (teacher, superuser):
        response = client.as_user(other).put(f"/api/community/comments/{comment.id}", json={"content": "篡改"})
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert client.put(f"/api/community/comments/{comment.id}", json={"content": "x"}).status_code == 401
    assert comments_of(client.as_user(student), article.id)[0]["content"] == "原文"


def test_invalid_content_is_400_and_changes_nothing(client, make_article, make_comment, student):
    article = make_article(student)
    comment = make_comment(student, article, content="原文")
    api = client.as_user(student)
    for body in ({"content": ""}, {}, {"content": "字" * 5001}, {"content": None}):
        response = api.put(f"/api/community/comments/{comment.id}", json=body)
        assert response.status_code == 400 and "content" in response.json()["errors"], (body, response.text)
    assert api.patch(f"/api/community/comments/{comment.id}", json={"content": None}).status_code == 400
    assert api.patch(f"/api/community/comments/{comment.id}", json={}).json()["content"] == "原文"
    assert comments_of(api, article.id)[0]["content"] == "原文"


def test_article_and_author_cannot_be_changed_by_an_edit(client, make_article, make_comment, teacher, student):
    article, other = make_article(student), make_article(student, title="另一篇")
    comment = make_comment(student, article)
    body = {"content": "新内容", "article": other.id, "user": teacher.id, "parent_comment": 1}
    edited = client.as_user(student).put(f"/api/community/comments/{comment.id}", json=body).json()
    assert (edited["article"], edited["user"], edited["parent_comment"]) == (article.id, student.id, None)


def test_a_deleted_comment_or_one_of_a_deleted_article_is_404(client, make_article, make_comment, student):
    article = make_article(student)
    gone, kept = make_comment(student, article), make_comment(student, article)
    api = client.as_user(student)
    assert api.delete(f"/api/community/comments/{gone.id}").status_code == 204
    assert api.put(f"/api/community/comments/{gone.id}", json={"content": "x"}).status_code == 404
    assert api.delete(f"/api/community/articles/{article.id}").status_code == 204
    assert api.patch(f"/api/community/comments/{kept.id}", json={"content": "x"}).status_code == 404
    assert api.put("/api/community/comments/987654", json={"content": "x"}).status_code == 404
