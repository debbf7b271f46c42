"""The work function: labels, topics and topic search (API.md §4). Routes only."""

from studyhub.clients.search import get_search
from studyhub.domain.work import labels, topics
from studyhub.domain.work.schemas import LabelIn, TopicIn, TopicPatch
from studyhub.http import Created, NoContent, Req, create_app, int_param, page_links, page_window, paginate

app, api = create_app("work")
api.health({"search": lambda: get_search().ping()})


@api.route("/work/labels", methods=["GET", "POST"])
def label_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(labels.create(req.session, caller, req.parse(LabelIn)))
    return paginate(req, labels.list_query(), lambda rows: [labels.serialize(x) for x in rows])


@api.route("/work/labels/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def label_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return labels.serialize(labels.get_label(req.session, id))
    if req.method == "DELETE":
        labels.delete(req.session, caller, id)
        return NoContent()
    return labels.update_label(req.session, caller, id, req.parse(LabelIn))


@api.route("/work/topics", methods=["GET", "POST"])
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


@api.route("/work/topics/search")
def topic_search(req: Req):
    caller = req.user
    offset, limit, style = page_window(req)
    count, results = topics.search(req.session, caller, req.query.get("subject", ""), offset=offset, limit=limit)
    nxt, prev = page_links(req, offset, limit, style, count)
    return {"count": count, "next": nxt, "previous": prev, "results": results}


@api.route("/work/topics/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def topic_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return topics.serialize_one(req.session, caller, topics.visible_topic(req.session, caller, id))
    if req.method == "DELETE":
        topics.delete(req.session, caller, id)
        return NoContent()
    body = req.parse(TopicIn) if req.method == "PUT" else req.parse(TopicPatch)
    return topics.update_topic(req.session, caller, id, body)
