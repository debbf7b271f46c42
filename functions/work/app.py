"""The work function: labels, topics and topic search (API.md §4). Routes only."""

from studyhub.clients.search import get_search
from studyhub.domain.work import labels, topics
from studyhub.domain.work.schemas import (
    LabelIn,
    LabelPublic,
    TopicFilters,
    TopicIn,
    TopicPatch,
    TopicPublic,
    TopicSearch,
)
from studyhub.http import Created, NoContent, Req, create_app, int_param, page_links, page_window, paginate

app, api = create_app("work")
api.health({"search": lambda: get_search().ping()})


@api.route(
    "/work/labels",
    methods=["GET", "POST"],
    summary={"GET": "标签列表", "POST": "创建标签（老师及以上）"},
    paginated={"GET": True},
    body={"POST": LabelIn},
    response=LabelPublic,
    status={"POST": 201},
    errors={"POST": (403,)},
)
def label_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(labels.create(req.session, caller, req.parse(LabelIn)))
    return paginate(req, labels.list_query(), lambda rows: [labels.serialize(x) for x in rows])


@api.route(
    "/work/labels/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一个标签", "PUT": "修改标签", "PATCH": "修改标签", "DELETE": "删除标签"},
    body={"PUT": LabelIn, "PATCH": LabelIn},
    response=LabelPublic,
    status={"DELETE": 204},
    errors={"PUT": (403,), "PATCH": (403,), "DELETE": (403,)},
)
def label_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return labels.serialize(labels.get_label(req.session, id))
    if req.method == "DELETE":
        labels.delete(req.session, caller, id)
        return NoContent()
    return labels.update_label(req.session, caller, id, req.parse(LabelIn))


@api.route(
    "/work/topics",
    methods=["GET", "POST"],
    summary={"GET": "题目列表（学生看不到答案和考试题）", "POST": "创建题目（老师及以上）"},
    query={"GET": TopicFilters},
    paginated={"GET": True},
    body={"POST": TopicIn},
    response=TopicPublic,
    status={"POST": 201},
    errors={"POST": (403,)},
)
def topic_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(topics.create(req.session, caller, req.parse(TopicIn)))
    return paginate(
        req,
        topics.list_query(
            caller,
            label_id=int_param(req.query, "label", low=1),
            topic_type=int_param(req.query, "type", low=0, high=4),
        ),
        lambda rows: topics.serialize_page(req.session, caller, rows),
    )


@api.route("/work/topics/search", summary="题目全文搜索", query=TopicSearch, paginated=True, response=TopicPublic)
def topic_search(req: Req):
    caller = req.user
    offset, limit, style = page_window(req)
    count, results = topics.search(req.session, caller, req.query.get("subject", ""), offset=offset, limit=limit)
    nxt, prev = page_links(req, offset, limit, style, count)
    return {"count": count, "next": nxt, "previous": prev, "results": results}


@api.route(
    "/work/topics/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一道题目", "PUT": "修改题目", "PATCH": "修改题目（部分）", "DELETE": "删除题目"},
    body={"PUT": TopicIn, "PATCH": TopicPatch},
    response=TopicPublic,
    status={"DELETE": 204},
    errors={"PUT": (403,), "PATCH": (403,), "DELETE": (403,)},
)
def topic_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return topics.serialize_one(req.session, caller, topics.visible_topic(req.session, caller, id))
    if req.method == "DELETE":
        topics.delete(req.session, caller, id)
        return NoContent()
    body = req.parse(TopicIn) if req.method == "PUT" else req.parse(TopicPatch)
    return topics.update_topic(req.session, caller, id, body)
