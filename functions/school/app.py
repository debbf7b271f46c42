"""The school function: classes and student registration (API.md §3). Routes only."""

from studyhub.domain.school import classes, students
from studyhub.domain.school.schemas import (
    ClassIn,
    ClassPatch,
    ClassPublic,
    StudentCreated,
    StudentFilters,
    StudentIn,
    StudentPublic,
)
from studyhub.http import Created, NoContent, Req, create_app, int_param, paginate

app, api = create_app("school")
api.health()


@api.route(
    "/school/classes",
    methods=["GET", "POST"],
    summary={"GET": "班级列表（学生只看到自己所在的班级）", "POST": "创建班级（老师及以上）"},
    paginated={"GET": True},
    body={"POST": ClassIn},
    response=ClassPublic,
    status={"POST": 201},
    errors={"POST": (403,)},
)
def class_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(classes.create(req.session, caller, req.parse(ClassIn)))
    return paginate(req, classes.list_query(caller), classes.serialize_page)


@api.route("/school/classes/last", response=ClassPublic, summary="最近创建的可见班级", errors=(404,))
def class_last(req: Req):
    return classes.last(req.session, req.user)


@api.route(
    "/school/classes/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一个班级", "PUT": "修改班级", "PATCH": "修改班级（部分）", "DELETE": "删除班级"},
    body={"PUT": ClassIn, "PATCH": ClassPatch},
    response=ClassPublic,
    status={"DELETE": 204},
    errors={"PUT": (403,), "PATCH": (403,), "DELETE": (403,)},
)
def class_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return classes.serialize(classes.get_visible(req.session, caller, id))
    if req.method == "DELETE":
        classes.delete(req.session, caller, id)
        return NoContent()
    body = req.parse(ClassIn) if req.method == "PUT" else req.parse(ClassPatch)
    return classes.update(req.session, caller, id, body)


@api.route(
    "/school/students",
    methods=["GET", "POST"],
    summary={"GET": "学生列表（老师及以上）", "POST": "注册学生并邮件发送密码（老师及以上）"},
    query={"GET": StudentFilters},
    paginated={"GET": True},
    body={"POST": StudentIn},
    response={"GET": StudentPublic, "POST": StudentCreated},
    status={"POST": 201},
    errors=(403,),
)
def student_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(students.register(req.session, caller, req.parse(StudentIn)))
    return paginate(
        req,
        students.students_query(caller, class_id=int_param(req.query, "classes")),
        lambda rows: students.serialize_page(req.session, rows),
    )
