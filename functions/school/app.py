"""The school function: classes, students, class rosters in and out (API.md §3). Routes only."""

from studyhub.core.lazy import lazy_module
from studyhub.http import Created, NoContent, Req, create_app, int_param, paginate
from studyhub.http.pagination import paginate_rows
from studyhub.http.responses import download_response
from studyhub.http.routedoc import CSV, UPLOAD

# The group's pydantic models: route declarations name them ("XIn", resolved by the OpenAPI
# generator); a view that validates a body or a filter imports them on its first use.
schemas = lazy_module("studyhub.domain.school.schemas")
# Imported by the first route that uses them: a cold start loads the ORM only when a route needs it.
classes = lazy_module("studyhub.domain.school.classes")
class_reads = lazy_module("studyhub.domain.school.class_reads")  # on Core: no ORM, no schemas
roster = lazy_module("studyhub.domain.school.roster")
students = lazy_module("studyhub.domain.school.students")

app, api = create_app("school")
app.schemas = (schemas.__name__,)  # where the routes' model names resolve (reading it imports nothing)
api.health()


@api.route(
    "/school/classes",
    methods=["GET", "POST"],
    summary={"GET": "班级列表（学生只看到自己所在的班级）", "POST": "创建班级（老师及以上）"},
    paginated={"GET": True},
    body={"POST": "ClassIn"},
    response="ClassPublic",
    status={"POST": 201},
    errors={"POST": (403,)},
)
def class_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(classes.create(req.session, caller, req.parse(schemas.ClassIn)))
    page, count, params = class_reads.list_query(caller)
    return paginate_rows(req, page, count, lambda rows: class_reads.render_page(req.connection, rows), params=params)


@api.route("/school/classes/last", response="ClassPublic", summary="最近创建的可见班级", errors=(404,))
def class_last(req: Req):
    return classes.last(req.session, req.user)


@api.route(
    "/school/classes/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一个班级", "PUT": "修改班级", "PATCH": "修改班级（部分）", "DELETE": "删除班级"},
    body={"PUT": "ClassIn", "PATCH": "ClassPatch"},
    response="ClassPublic",
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
    body = req.parse(schemas.ClassIn) if req.method == "PUT" else req.parse(schemas.ClassPatch)
    return classes.update(req.session, caller, id, body)


@api.route(
    "/school/students",
    methods=["GET", "POST"],
    summary={"GET": "学生列表（老师及以上）", "POST": "注册学生并邮件发送密码（老师及以上）"},
    query={"GET": "StudentFilters"},
    paginated={"GET": True},
    body={"POST": "StudentIn"},
    response={"GET": "StudentPublic", "POST": "StudentCreated"},
    status={"POST": 201},
    errors=(403,),
)
def student_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(students.register(req.session, caller, req.parse(schemas.StudentIn)))
    return paginate(
        req,
        students.students_query(caller, class_id=int_param(req.query, "classes", low=1)),
        lambda rows: students.serialize_page(req.session, rows),
    )


@api.route(
    "/school/students/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一个学生", "PUT": "修改学生资料与班级", "PATCH": "修改学生（部分）", "DELETE": "停用学生"},
    body={"PUT": "StudentUpdate", "PATCH": "StudentPatch"},
    response="StudentDetail",
    status={"DELETE": 204},
    errors=(403,),
)
def student_item(req: Req, id: int):
    """A teacher reads a student, changes its email, name, age, sex or classes (the list is
    replaced), or deactivates it (a soft delete: 404 to teachers afterwards)."""
    caller = req.user
    if req.method == "GET":
        return students.read(req.session, caller, id)
    if req.method == "DELETE":
        students.deactivate(req.session, caller, id)
        return NoContent()
    body = req.parse(schemas.StudentUpdate) if req.method == "PUT" else req.parse(schemas.StudentPatch)
    return students.update(req.session, caller, id, body)


@api.route(
    "/school/classes/{id}/students/import",
    methods=["POST"],
    summary="从 CSV 或 .xlsx 批量导入学生（老师及以上）",
    body=UPLOAD,
    response="RosterImported",
    status=201,
    errors=(403, 413, 415),
)
def class_roster_import(req: Req, id: int):
    """Multipart field ``file``: a UTF-8 CSV (a BOM is fine) or an .xlsx with the header
    ``username,email[,first_name,age,sex]``, at most 1,000 students. All or nothing: any bad row
    is a 400 with ``errors: {"line N": [...]}`` and nobody is created. Each student gets the
    registration email (queued)."""
    caller = req.user
    _fields, files = req.form()
    return Created(roster.import_students(req.session, caller, id, files))


@api.route(
    "/school/classes/{id}/students/export",
    summary="导出班级学生名单（CSV，带 BOM）",
    response=CSV,
    errors=(403,),
)
def class_roster_export(req: Req, id: int):
    """The class's students as CSV (username,email,first_name,age,sex), no passwords."""
    filename, text = roster.export_students(req.session, req.user, id)
    return download_response(text, filename, "text/csv; charset=utf-8")
