"""The work function: labels, topics and topic search (API.md §4); papers, assignments,
submissions, statistics, the mistake book and practice (§9). Routes only."""

from studyhub.core.errors import Invalid
from studyhub.core.lazy import lazy_function, lazy_module
from studyhub.http import (
    Created,
    NoContent,
    Req,
    create_app,
    int_param,
    json_response,
    page_links,
    page_of,
    page_window,
    paginate,
)
from studyhub.http.pagination import paginate_rows
from studyhub.http.params import text_param

# The group's pydantic models: route declarations name them ("XIn", resolved by the OpenAPI
# generator); a view that validates a body or a filter imports them on its first use.
schemas = lazy_module("studyhub.domain.work.schemas")
# Imported by the first route that uses them: a cold start loads the ORM only when a route needs it.
assignments = lazy_module("studyhub.domain.work.assignments")
attempts = lazy_module("studyhub.domain.work.attempts")
labels = lazy_module("studyhub.domain.work.labels")
mistakes = lazy_module("studyhub.domain.work.mistakes")
papers = lazy_module("studyhub.domain.work.papers")
practice = lazy_module("studyhub.domain.work.practice")
stats = lazy_module("studyhub.domain.work.stats")
submissions = lazy_module("studyhub.domain.work.submissions")
topics = lazy_module("studyhub.domain.work.topics")
topic_reads = lazy_module("studyhub.domain.work.topic_reads")  # on Core: the list needs no ORM, no schemas
now = lazy_function("studyhub.domain.work.homework", "now")
readable_assignment = lazy_function("studyhub.domain.work.homework", "readable_assignment")
get_search = lazy_function("studyhub.clients.search", "get_search")

app, api = create_app("work")
app.schemas = (schemas.__name__,)  # where the routes' model names resolve (reading it imports nothing)
api.health({"search": lambda: get_search().ping()})


@api.route(
    "/work/labels",
    methods=["GET", "POST"],
    summary={"GET": "标签列表", "POST": "创建标签（老师及以上）"},
    paginated={"GET": True},
    body={"POST": "LabelIn"},
    response="LabelPublic",
    status={"POST": 201},
    errors={"POST": (403,)},
)
def label_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(labels.create(req.session, caller, req.parse(schemas.LabelIn)))
    return paginate(req, labels.list_query(), lambda rows: [labels.serialize(x) for x in rows])


@api.route(
    "/work/labels/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一个标签", "PUT": "修改标签", "PATCH": "修改标签", "DELETE": "删除标签"},
    body={"PUT": "LabelIn", "PATCH": "LabelIn"},
    response="LabelPublic",
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
    return labels.update_label(req.session, caller, id, req.parse(schemas.LabelIn))


@api.route(
    "/work/topics",
    methods=["GET", "POST"],
    summary={"GET": "题目列表（学生看不到答案和考试题）", "POST": "创建题目（老师及以上）"},
    query={"GET": "TopicFilters"},
    paginated={"GET": True},
    body={"POST": "TopicIn"},
    response="TopicPublic",
    status={"POST": 201},
    errors={"POST": (403,)},
)
def topic_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(topics.create(req.session, caller, req.parse(schemas.TopicIn)))
    rows, count, params = topic_reads.list_query(
        caller,
        label_id=int_param(req.query, "label", low=1),
        topic_type=int_param(req.query, "type", low=0, high=4),
    )
    return paginate_rows(req, rows, count, lambda page: topic_reads.serialize_rows(caller, page), params=params)


@api.route("/work/topics/search", summary="题目全文搜索", query="TopicSearch", paginated=True, response="TopicPublic")
def topic_search(req: Req):
    caller = req.user
    offset, limit, style = page_window(req)
    count, results = topics.search(
        req.session, caller, text_param(req.query, "subject", schemas.TopicSearch), offset=offset, limit=limit
    )
    nxt, prev = page_links(req, offset, limit, style, count)
    return {"count": count, "next": nxt, "previous": prev, "results": results}


@api.route(
    "/work/topics/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一道题目", "PUT": "修改题目", "PATCH": "修改题目（部分）", "DELETE": "删除题目"},
    body={"PUT": "TopicIn", "PATCH": "TopicPatch"},
    response="TopicPublic",
    status={"DELETE": 204},
    errors={"PUT": (403,), "PATCH": (403,), "DELETE": (403,)},
)
def topic_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return topic_reads.detail(req.connection, caller, id)
    if req.method == "DELETE":
        topics.delete(req.session, caller, id)
        return NoContent()
    body = req.parse(schemas.TopicIn) if req.method == "PUT" else req.parse(schemas.TopicPatch)
    return topics.update_topic(req.session, caller, id, body)


# --- homework, exams and practice (API.md §9) ------------------------------------------------


@api.route(
    "/work/papers",
    methods=["GET", "POST"],
    summary={"GET": "试卷列表（老师及以上）", "POST": "创建试卷（老师及以上）"},
    paginated={"GET": True},
    body={"POST": "PaperIn"},
    response="PaperPublic",
    status={"POST": 201},
    errors=(403,),
)
def paper_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(papers.create(req.session, caller, req.parse(schemas.PaperIn)))
    return paginate(req, papers.list_query(caller), lambda rows: papers.serialize_page(req.session, rows))


@api.route(
    "/work/papers/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一份试卷", "PUT": "修改试卷", "PATCH": "修改试卷（部分）", "DELETE": "删除试卷"},
    body={"PUT": "PaperIn", "PATCH": "PaperPatch"},
    response="PaperPublic",
    status={"DELETE": 204},
    errors={"GET": (403,), "PUT": (403, 409), "PATCH": (403, 409), "DELETE": (403,)},
)
def paper_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return papers.serialize_page(req.session, [papers.get_paper(req.session, caller, id)])[0]
    if req.method == "DELETE":
        papers.delete_paper(req.session, caller, id)
        return NoContent()
    body = req.parse(schemas.PaperIn) if req.method == "PUT" else req.parse(schemas.PaperPatch)
    return papers.update_paper(req.session, caller, id, body)


@api.route(
    "/work/assignments",
    methods=["GET", "POST"],
    summary={"GET": "作业和考试（学生：自己班级的）", "POST": "布置作业或考试（老师及以上）"},
    query={"GET": "AssignmentFilters"},
    paginated={"GET": True},
    body={"POST": "AssignmentIn"},
    response="AssignmentPublic",
    status={"POST": 201},
    errors={"POST": (403,)},
)
def assignment_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(assignments.create(req.session, caller, req.parse(schemas.AssignmentIn)))
    kind = req.query.get("kind") or None
    if kind not in (None, "homework", "exam"):
        raise Invalid.field("kind", "必须是 homework 或 exam。", code="invalid_filter")
    return paginate(
        req, assignments.list_query(caller, kind=kind), lambda rows: assignments.serialize_page(req.session, rows)
    )


@api.route(
    "/work/assignments/{id}",
    methods=["GET", "PATCH", "DELETE"],
    summary={"GET": "一项作业", "PATCH": "修改作业", "DELETE": "删除作业"},
    body={"PATCH": "AssignmentPatch"},
    response="AssignmentPublic",
    status={"DELETE": 204},
    errors={"PATCH": (403, 409), "DELETE": (403,)},
)
def assignment_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return assignments.serialize_page(req.session, [readable_assignment(req.session, caller, id)])[0]
    if req.method == "DELETE":
        assignments.delete_assignment(req.session, caller, id)
        return NoContent()
    return assignments.update_assignment(req.session, caller, id, req.parse(schemas.AssignmentPatch))


@api.route(
    "/work/assignments/{id}/paper",
    summary="作答用的试卷（学生：仅在开放时间内；考试题只在这里可见）",
    response="AssignmentPaperPublic",
    errors=(409,),
)
def assignment_paper(req: Req, id: int):
    return assignments.paper_view(req.session, req.user, id)


@api.route(
    "/work/assignments/{id}/start",
    methods=["POST"],
    retry=True,
    summary="开始作答（学生；重复开始返回同一次作答）",
    response="AttemptPublic",
    status=(201, 200),  # 201 a new attempt, 200 the same attempt started again
    errors=(403, 409),
)
def assignment_start(req: Req, id: int):
    attempt, created = attempts.start(req.session, req.user, id)
    return Created(attempt) if created else attempt


@api.route(
    "/work/assignments/{id}/answers",
    methods=["PUT"],
    retry=True,
    summary="保存草稿（整体替换）",
    body="AnswersIn",
    response="AttemptPublic",
    errors=(403, 409),
)
def assignment_answers(req: Req, id: int):
    return attempts.save_draft(req.session, req.user, id, req.parse(schemas.AnswersIn).answers)


@api.route(
    "/work/assignments/{id}/submit",
    methods=["POST"],
    retry=True,
    summary="交卷（与草稿按题合并；只能交一次）",
    body="SubmitIn",
    response="SubmissionPublic",
    status=201,
    errors=(403, 409),
)
def assignment_submit(req: Req, id: int):
    submission_id = attempts.submit(req.session, req.user, id, req.parse(schemas.SubmitIn).answers)
    return Created(submissions.read(req.session, req.user, submission_id))


@api.route(
    "/work/assignments/{id}/submissions",
    summary="班级学生的作答情况（布置者、管理员）",
    paginated=True,
    response="RosterRowPublic",
)
def assignment_submissions(req: Req, id: int):
    offset, limit, style = page_window(req)
    count, results = submissions.roster(req.session, req.user, id, offset=offset, limit=limit)
    return page_of(req, count, results, offset, limit, style)


@api.route("/work/assignments/{id}/stats", summary="作业统计（布置者、管理员）", response="StatsPublic")
def assignment_stats(req: Req, id: int):
    return stats.stats(req.session, req.user, id)


@api.route(
    "/work/submissions/{id}",
    methods=["GET", "PATCH"],
    summary={"GET": "一份提交", "PATCH": "批改问答题（布置者、管理员）"},
    body={"PATCH": "MarksIn"},
    response="SubmissionPublic",
    errors={"PATCH": (403,)},
)
def submission_item(req: Req, id: int):
    if req.method == "GET":
        return submissions.read(req.session, req.user, id)
    return submissions.mark(req.session, req.user, id, req.parse(schemas.MarksIn).marks)


@api.route("/work/mistakes", summary="错题本（学生）", paginated=True, response="MistakePublic", errors=(403,))
def mistake_collection(req: Req):
    offset, limit, style = page_window(req)
    count, results = mistakes.page(req.session, req.user, now(), offset=offset, limit=limit)
    return page_of(req, count, results, offset, limit, style)


@api.route(
    "/work/mistakes/{topic}",
    methods=["DELETE"],
    summary="移出错题本",
    status=204,
    errors=(403,),
)
def mistake_item(req: Req, topic: int):
    mistakes.remove(req.session, req.user, topic)
    return NoContent()


@api.route(
    "/work/practice",
    summary="今日练习：先复习到期的错题，再做相似题（不分页）",
    query="PracticeQuery",
    response="PracticeTopicPublic",
    many=True,
    errors=(403,),
)
def practice_list(req: Req):
    size = int_param(req.query, "size", low=1)  # above the maximum is served as the maximum
    return json_response(practice.select_topics(req.session, req.user, size))


@api.route(
    "/work/practice/{topic}",
    methods=["POST"],
    retry=True,
    summary="练习作答：判分并更新复习计划",
    body="PracticeIn",
    response="PracticeResultPublic",
    errors=(403,),
)
def practice_answer(req: Req, topic: int):
    return practice.answer(req.session, req.user, topic, req.parse(schemas.PracticeIn).answer)
