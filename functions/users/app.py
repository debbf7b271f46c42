"""The users function: captcha, login, users, areas, addresses (API.md §2). Routes only."""

from chalice import Response

from studyhub.core.lazy import lazy_function, lazy_module
from studyhub.http import Created, NoContent, Req, create_app, int_param, json_response, paginate
from studyhub.http.params import bool_param, text_param
from studyhub.http.routedoc import PNG, UPLOAD

# The group's pydantic models: route declarations name them ("XIn", resolved by the OpenAPI
# generator); a view that validates a body or a filter imports them on its first use.
schemas = lazy_module("studyhub.domain.users.schemas")
# Imported by the first route that uses them: a cold start loads the ORM only when a route needs it.
addresses = lazy_module("studyhub.domain.users.addresses")
areas = lazy_module("studyhub.domain.users.areas")
login = lazy_module("studyhub.domain.users.login")
password_reset = lazy_module("studyhub.domain.school.password_reset")
ratelimit = lazy_module("studyhub.domain.ratelimit")
sessions = lazy_module("studyhub.domain.users.sessions")
users = lazy_module("studyhub.domain.users.users")
user_reads = lazy_module("studyhub.domain.users.user_reads")  # on Core: no ORM, no schemas
bearer_token = lazy_function("studyhub.http.auth", "token_from_header")

UUID_PARAM = {"type": "string", "format": "uuid", "maxLength": 36}

app, api = create_app("users")
# where the routes' model names resolve (reading __name__ imports nothing); FileUrlPublic: shared
app.schemas = (schemas.__name__, "studyhub.domain.schema")
api.health()


@api.route(
    "/users/image/verification/{uuid}",
    db=False,
    auth="none",
    response=PNG,
    summary="图片验证码",
    path_params={"uuid": UUID_PARAM},
    errors=(400, 429),
)
def captcha(req: Req, uuid: str):
    ratelimit.limit_captcha(req.client_address)
    image = login.new_captcha(uuid)
    return Response(body=image, status_code=200, headers={"Content-Type": "image/png", "Cache-Control": "no-store"})


@api.route(
    "/users/login", methods=["POST"], auth="none", body="LoginIn", response="LoginResult", summary="登录", errors=(429,)
)
def login_view(req: Req):
    ratelimit.limit_login(req.client_address)  # every attempt, whatever the username
    return login.login(req.session, req.json())


@api.route(
    "/users/users",
    methods=["GET", "POST"],
    summary={"GET": "用户列表（老师及以上）", "POST": "创建用户（超级用户）"},
    query={"GET": "UserFilters"},
    paginated={"GET": True},
    body={"POST": "UserCreate"},
    response="UserPublic",
    status={"POST": 201},
    errors=(403,),
)
def users_collection(req: Req):
    if req.method == "POST":
        return Created(users.create(req.session, req.user, req.parse(schemas.UserCreate)))
    from studyhub.domain.users.accounts import serialize_user

    stmt = users.users_query(
        req.user,
        group_id=int_param(req.query, "groups", low=1),
        search=text_param(req.query, "search", schemas.UserFilters),
        is_active=bool_param(req.query, "is_active"),
    )
    return paginate(req, stmt, lambda rows: [serialize_user(u) for u in rows])


@api.route(
    "/users/users/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一个用户", "PUT": "修改用户", "PATCH": "修改用户（部分）", "DELETE": "停用用户（超级用户）"},
    body={"PUT": "UserUpdate", "PATCH": "UserUpdate"},
    response="UserPublic",
    status={"DELETE": 204},
    errors=(403,),
)
def user_item(req: Req, id: int):
    if req.method == "GET":
        return user_reads.detail(req.connection, req.user, id)
    if req.method == "DELETE":
        users.deactivate(req.session, req.user, id)
        return NoContent()
    return users.update(req.session, req.user, id, req.parse(schemas.UserUpdate))


@api.route(
    "/users/users/{id}/password",
    methods=["PUT"],
    summary="修改密码（本人凭原密码；超级用户可直接设置任何人的）",
    body="PasswordChange",
    status=204,
    errors=(403,),
)
def user_password(req: Req, id: int):
    """Self: old_password and new_password; a superuser for another user: new_password alone.
    Every token of that user issued before is 401 afterwards."""
    users.change_password(req.session, req.user, id, req.parse(schemas.PasswordChange))
    return NoContent()


@api.route(
    "/users/users/{id}/password/reset",
    methods=["POST"],
    summary="重置密码并邮件发送新密码（超级用户，或同班老师）",
    response="MessagePublic",
    status=202,
    errors=(403, 409),
)
def user_password_reset(req: Req, id: int):
    """A new random password, emailed to the user like a registration (queued, retried); never in
    the response. Every token of that user issued before is 401 afterwards."""
    password_reset.reset_password(req.session, req.user, id)
    return json_response({"detail": "新密码已通过邮件发送给该用户"}, 202)


@api.route("/users/logout", methods=["POST"], summary="退出登录（令牌作废）", status=204)
def logout_view(req: Req):
    """The token sent with this request is 401 from now on, in every process."""
    sessions.logout(req.user, bearer_token(req.headers.get("authorization")))
    return NoContent()


@api.route("/users/token/refresh", methods=["POST"], summary="刷新令牌", response="TokenPublic")
def token_refresh(req: Req):
    return sessions.refresh(req.user)


@api.route(
    "/users/users/{id}/avatar",
    methods=["POST"],
    summary="上传头像（JPEG、PNG 或 GIF）",
    body=UPLOAD,
    response="FileUrlPublic",
    errors=(403,),
)
def user_avatar(req: Req, id: int):
    caller = req.user
    _fields, files = req.form()
    return users.upload_avatar(req.session, caller, id, files)


@api.route("/users/area", auth="none", response="AreaPublic", many=True, summary="省份列表")
def area_provinces(req: Req):
    return areas.provinces(req.session)


@api.route("/users/area/{id}", auth="none", response="AreaDetailPublic", summary="一个地区及其下级")
def area_item(req: Req, id: int):
    return areas.area(req.session, id)


@api.route(
    "/users/address",
    methods=["GET", "POST"],
    summary={"GET": "我的收货地址", "POST": "新增收货地址"},
    paginated={"GET": True},
    body={"POST": "AddressIn"},
    response="AddressPublic",
    status={"POST": 201},
)
def address_collection(req: Req):
    if req.method == "POST":
        return Created(addresses.create(req.session, req.user, req.parse(schemas.AddressIn)))
    return paginate(req, addresses.owned_query(req.user), lambda rows: [addresses.serialize(a) for a in rows])


@api.route(
    "/users/address/{id}",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    summary={"GET": "一个收货地址", "PUT": "修改收货地址", "PATCH": "修改收货地址（部分）", "DELETE": "删除收货地址"},
    body={"PUT": "AddressIn", "PATCH": "AddressPatch"},
    response="AddressPublic",
    status={"DELETE": 204},
)
def address_item(req: Req, id: int):
    if req.method == "GET":
        return addresses.serialize(addresses.get_owned(req.session, req.user, id))
    if req.method == "DELETE":
        addresses.delete(req.session, req.user, id)
        return NoContent()
    body = req.parse(schemas.AddressIn) if req.method == "PUT" else req.parse(schemas.AddressPatch)
    return addresses.update(req.session, req.user, id, body)
