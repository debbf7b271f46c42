"""The community function: articles and threaded comments (API.md §5). Routes only."""

from studyhub.core.lazy import lazy_module
from studyhub.http import Created, NoContent, Req, create_app, paginate
from studyhub.http.pagination import paginate_rows

# The group's pydantic models: route declarations name them ("XIn", resolved by the OpenAPI
# generator); a view that validates a body or a filter imports them on its first use.
schemas = lazy_module("studyhub.domain.community.schemas")
# Imported by the first route that uses them: a cold start loads the ORM only when a route needs it.
articles = lazy_module("studyhub.domain.community.articles")
article_reads = lazy_module("studyhub.domain.community.article_reads")  # on Core: no ORM, no schemas
comments = lazy_module("studyhub.domain.community.comments")

app, api = create_app("community")
app.schemas = (schemas.__name__,)  # where the routes' model names resolve (reading it imports nothing)
api.health()


@api.route(
    "/community/articles",
    methods=["GET", "POST"],
    summary={"GET": "文章列表", "POST": "发表文章"},
    paginated={"GET": True},
    body={"POST": "ArticleIn"},
    response="ArticlePublic",
    status={"POST": 201},
)
def article_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(articles.create(req.session, caller, req.parse(schemas.ArticleIn)))
    return paginate_rows(req, article_reads.list_query(), article_reads.count_query(), article_reads.serialize_rows)


@api.route(
    "/community/articles/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "阅读文章（浏览量加 1）", "PUT": "修改文章", "PATCH": "修改文章（部分）", "DELETE": "删除文章"},
    body={"PUT": "ArticleIn", "PATCH": "ArticlePatch"},
    response="ArticlePublic",
    status={"DELETE": 204},
    errors={"PUT": (403,), "PATCH": (403,), "DELETE": (403,)},
)
def article_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return article_reads.read(req.connection, id)
    if req.method == "DELETE":
        articles.delete(req.session, caller, id)
        return NoContent()
    body = req.parse(schemas.ArticleIn) if req.method == "PUT" else req.parse(schemas.ArticlePatch)
    return articles.update_article(req.session, caller, id, body)


@api.route(
    "/community/comments",
    methods=["GET", "POST"],
    summary={"GET": "文章的评论（每条带回复）", "POST": "发表评论或回复"},
    query={"GET": "CommentFilters"},
    paginated={"GET": True},
    body={"POST": "CommentIn"},
    response={"GET": "CommentPublic", "POST": ("CommentPublic", "ReplyPublic")},
    status={"POST": 201},
)
def comment_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(comments.create(req.session, caller, req.parse(schemas.CommentIn)))
    article_id = comments.article_for_comments(req.session, req.query.get("article"))
    return paginate(req, comments.top_level_query(article_id), lambda rows: comments.serialize_page(req.session, rows))


@api.route(
    "/community/comments/{id}",
    methods=["PUT", "PATCH", "DELETE"],
    summary={"PUT": "修改自己的评论", "PATCH": "修改自己的评论（部分）", "DELETE": "删除评论"},
    body={"PUT": "CommentEdit", "PATCH": "CommentPatch"},
    response={"PUT": ("CommentPublic", "ReplyPublic"), "PATCH": ("CommentPublic", "ReplyPublic")},
    status={"DELETE": 204},
    errors=(403,),
)
def comment_item(req: Req, id: int):
    """The author edits the text (it keeps its place in the thread); the author or a superuser deletes."""
    if req.method == "DELETE":
        comments.delete(req.session, req.user, id)
        return NoContent()
    body = req.parse(schemas.CommentEdit) if req.method == "PUT" else req.parse(schemas.CommentPatch)
    return comments.update(req.session, req.user, id, body)
