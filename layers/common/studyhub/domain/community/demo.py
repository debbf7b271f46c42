"""Demo articles and comment threads for ``studyhub seed --demo`` (a ``DEMO_SEEDERS`` entry).

Idempotent: does nothing once the demo authors have articles. Needs the demo users that
``seed_demo`` creates first (teacher1, student1, student2).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studyhub.models.community import Article, Comment
from studyhub.models.users import User

ARTICLES = [
    ("teacher1", "Python 中的列表推导式", "列表推导式用一行代码从一个序列构造新列表：[x * x for x in range(10)]。"),
    ("student1", "我的第一周学习总结", "这周学习了变量、循环和函数，最难的是递归。"),
    ("teacher1", "如何高效地准备考试", "先做题库里的单选题，再看错题的解析，最后做一套完整的模拟卷。"),
]
# (article index, author, text, index of the answered comment in this list or None)
COMMENTS = [
    (0, "student1", "讲得很清楚，谢谢老师！", None),
    (0, "teacher1", "不客气，有问题随时问。", 0),
    (0, "student2", "我也有同样的问题：嵌套的推导式怎么写？", 1),
    (0, "student2", "能再讲讲字典推导式吗？", None),
    (1, "teacher1", "递归先想清楚终止条件。", None),
]


def seed_demo_articles(session: Session) -> int:
    names = {u for u, *_ in ARTICLES} | {u for _, u, *_ in COMMENTS}
    users = {u.username: u.id for u in session.scalars(select(User).where(User.username.in_(names)))}
    if set(users) != names:
        return 0
    if session.scalar(select(func.count()).select_from(Article).where(Article.user_id.in_(users.values()))):
        return 0
    articles = [
        Article(title=title, content=content, user_id=users[author], page_view=0) for author, title, content in ARTICLES
    ]
    session.add_all(articles)
    session.flush()
    comments: list[Comment] = []
    for article_index, author, text, parent_index in COMMENTS:
        parent = comments[parent_index] if parent_index is not None else None
        comment = Comment(
            article_id=articles[article_index].id,
            user_id=users[author],
            content=text,
            parent_comment_id=parent.id if parent else None,
            root_comment_id=(parent.root_comment_id or parent.id) if parent else None,
        )
        session.add(comment)
        session.flush()
        comments.append(comment)
    return len(articles) + len(comments)
