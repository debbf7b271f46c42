"""The school function: classes and student registration (API.md §3). Routes only."""

from studyhub.domain.school import classes, students
from studyhub.domain.school.schemas import ClassIn, ClassPatch, StudentIn
from studyhub.http import Created, NoContent, Req, create_app, int_param, paginate

app, api = create_app("school")
api.health()


@api.route("/school/classes", methods=["GET", "POST"])
def class_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(classes.create(req.session, caller, req.parse(ClassIn)))
    return paginate(req, classes.list_query(caller), classes.serialize_page)


@api.route("/school/classes/last")
def class_last(req: Req):
    return classes.last(req.session, req.user)


@api.route("/school/classes/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def class_item(req: Req, id: int):
    caller = req.user
    if req.method == "GET":
        return classes.serialize(classes.get_visible(req.session, caller, id))
    if req.method == "DELETE":
        classes.delete(req.session, caller, id)
        return NoContent()
    body = req.parse(ClassIn) if req.method == "PUT" else req.parse(ClassPatch)
    return classes.update(req.session, caller, id, body)


@api.route("/school/students", methods=["GET", "POST"])
def student_collection(req: Req):
    caller = req.user
    if req.method == "POST":
        return Created(students.register(req.session, caller, req.parse(StudentIn)))
    return paginate(
        req,
        students.students_query(caller, class_id=int_param(req.query, "classes")),
        lambda rows: students.serialize_page(req.session, rows),
    )
