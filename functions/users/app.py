"""The users function: captcha, login, users, areas, addresses (API.md §2). Routes only."""

from chalice import Response

from studyhub.domain.users import addresses, areas, login, users
from studyhub.domain.users.schemas import AddressIn, AddressPatch, PasswordChange, UserCreate, UserUpdate
from studyhub.http import Created, NoContent, Req, create_app, int_param, paginate

app, api = create_app("users")
api.health()


@api.route("/users/image/verification/{uuid}", db=False)
def captcha(req: Req, uuid: str):
    image = login.new_captcha(uuid)
    return Response(body=image, status_code=200, headers={"Content-Type": "image/png", "Cache-Control": "no-store"})


@api.route("/users/login", methods=["POST"])
def login_view(req: Req):
    return login.login(req.session, req.json())


@api.route("/users/users", methods=["GET", "POST"])
def users_collection(req: Req):
    if req.method == "POST":
        return Created(users.create(req.session, req.user, req.parse(UserCreate)))
    from studyhub.domain.users.accounts import serialize_user

    stmt = users.users_query(req.user, group_id=int_param(req.query, "groups"), search=req.query.get("search") or "")
    return paginate(req, stmt, lambda rows: [serialize_user(u) for u in rows])


@api.route("/users/users/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def user_item(req: Req, id: int):
    from studyhub.domain.users.accounts import serialize_user

    if req.method == "GET":
        return serialize_user(users.visible_user(req.session, req.user, id))
    if req.method == "DELETE":
        users.deactivate(req.session, req.user, id)
        return NoContent()
    return users.update(req.session, req.user, id, req.parse(UserUpdate))


@api.route("/users/users/{id}/password", methods=["PUT"])
def user_password(req: Req, id: int):
    users.change_password(req.session, req.user, id, req.parse(PasswordChange))
    return NoContent()


@api.route("/users/users/{id}/avatar", methods=["POST"])
def user_avatar(req: Req, id: int):
    caller = req.user
    _fields, files = req.form()
    return users.upload_avatar(req.session, caller, id, files)


@api.route("/users/area")
def area_provinces(req: Req):
    return areas.provinces(req.session)


@api.route("/users/area/{id}")
def area_item(req: Req, id: int):
    return areas.area(req.session, id)


@api.route("/users/address", methods=["GET", "POST"])
def address_collection(req: Req):
    if req.method == "POST":
        return Created(addresses.create(req.session, req.user, req.parse(AddressIn)))
    return paginate(req, addresses.owned_query(req.user), lambda rows: [addresses.serialize(a) for a in rows])


@api.route("/users/address/{id}", methods=["GET", "PUT", "PATCH", "DELETE"])
def address_item(req: Req, id: int):
    if req.method == "GET":
        return addresses.serialize(addresses.get_owned(req.session, req.user, id))
    if req.method == "DELETE":
        addresses.delete(req.session, req.user, id)
        return NoContent()
    body = req.parse(AddressIn) if req.method == "PUT" else req.parse(AddressPatch)
    return addresses.update(req.session, req.user, id, body)
