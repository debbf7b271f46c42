"""Articles and threaded comments in the console (issue 16, API.md §5): student1 writes an article,
comments on it, replies to its comment, edits the comment, deletes the reply and edits the
article; teacher1 (on a phone) reads it without its author's buttons and replies too; the
author deletes it and it is gone from the list. Screenshots at desktop and phone widths."""

from __future__ import annotations

import re
import uuid

import pytest

# The flows issue 16 names run on both stacks; this one is about pages, not the database behind
# them (which the HTTP suites run on both), so it runs on the embedded stack: CI stays under 20 minutes.
pytestmark = [pytest.mark.browser, pytest.mark.embedded_only]


def test_write_comment_reply_edit_and_delete(console_server, desktop, phone, login, shot):
    url, page = console_server.url, desktop
    title = f"浏览器里写的文章 {uuid.uuid4().hex[:6]}"
    login(page, "student1")
    page.goto(f"{url}/articles")
    page.get_by_role("link", name="写文章").click()
    page.get_by_label("标题").fill(title)
    page.get_by_label("正文").fill("第一段。\n第二段：列表推导式很好用。")
    page.get_by_role("button", name="发布").click()
    page.get_by_role("heading", name=title).wait_for()
    assert re.search(r"/articles/\d+$", page.url), page.url
    article_url = page.url

    page.get_by_label("发表评论").fill("写得好！")
    page.get_by_role("button", name="发表").click()
    comments = page.get_by_test_id("comment-row")
    comments.filter(has_text="写得好！").wait_for()
    comments.filter(has_text="写得好！").get_by_role("button", name="回复").click()
    page.get_by_label(re.compile("^回复 ")).fill("谢谢，我再补充一点。")
    page.get_by_role("button", name="回复", exact=True).last.click()
    reply = comments.filter(has_text="谢谢，我再补充一点。")
    reply.wait_for()
    assert "回复 student1" in reply.inner_text()

    first = comments.filter(has_text="写得好！")
    first.get_by_role("button", name="编辑").click()
    page.get_by_label("修改评论").fill("写得很好！")
    page.get_by_role("button", name="保存").click()
    comments.filter(has_text="写得很好！").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    reply.get_by_role("button", name="删除").click()
    reply.wait_for(state="detached")
    assert comments.count() == 1
    shot(page, "article")

    page.get_by_role("link", name="编辑").click()
    page.get_by_label("标题").fill(title + "（修订）")
    page.get_by_role("button", name="保存").click()
    page.get_by_role("heading", name=title + "（修订）").wait_for()

    # another reader: no author's buttons on the article, a reply of its own
    login(phone, "teacher1")
    phone.goto(article_url)
    phone.get_by_role("heading", name=title + "（修订）").wait_for()
    assert phone.get_by_role("link", name="编辑").count() == 0
    assert phone.get_by_role("button", name="删除").count() == 0  # neither the article's nor the comment's
    phone.get_by_test_id("comment-row").get_by_role("button", name="回复").click()
    phone.get_by_label(re.compile("^回复 ")).fill("老师也来看看。")
    phone.get_by_role("button", name="回复", exact=True).last.click()
    phone.get_by_test_id("comment-row").filter(has_text="老师也来看看。").wait_for()
    shot(phone, "article")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="删除").first.click()
    page.get_by_test_id("article-list").wait_for()
    assert page.url.endswith("/articles"), page.url
    assert page.get_by_test_id("article-row").filter(has_text=title).count() == 0
    shot(page, "articles")
