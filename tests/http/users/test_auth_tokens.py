"""API.md §1 Auth: only HS256 with our secret, unexpired, for an active user."""

import base64
import json
import time

import jwt
import pytest


def _get_me(client, user, token):
    return client.get(f"/api/users/users/{user.id}", headers={"Authorization": f"Bearer {token}"})


def test_token_claims(platform, student):
    from studyhub.core.security import issue_token

    claims = jwt.decode(issue_token(student), platform.env["JWT_SECRET"], algorithms=["HS256"])
    assert claims["sub"] == str(student.id) and claims["username"] == student.username
    assert claims["exp"] - claims["iat"] == 86400


def test_alg_none_is_refused(client, student):
    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    token = b64({"alg": "none", "typ": "JWT"}) + "." + b64({"sub": str(student.id), "iat": now, "exp": now + 60}) + "."
    assert _get_me(client, student, token).status_code == 401


def test_other_algorithm_and_bad_signature_are_refused(client, platform, student):
    now = int(time.time())
    claims = {"sub": str(student.id), "username": student.username, "iat": now, "exp": now + 60}
    hs512 = jwt.encode(claims, platform.env["JWT_SECRET"], algorithm="HS512")
    forged = jwt.encode(claims, "not-our-secret-but-just-as-long-as-a-real-one", algorithm="HS256")
    assert _get_me(client, student, hs512).status_code == 401
    response = _get_me(client, student, forged)
    assert response.status_code == 401 and response.json()["code"] == "token_invalid"


def test_expired_token_is_401(client, platform, student):
    past = int(time.time()) - 100_000
    token = jwt.encode(
        {"sub": str(student.id), "iat": past, "exp": past + 60}, platform.env["JWT_SECRET"], algorithm="HS256"
    )
    response = _get_me(client, student, token)
    assert response.status_code == 401 and response.json()["code"] == "token_expired"


def test_token_of_a_deactivated_user_is_401(client, superuser, student):
    from conftest import token_for

    token = token_for(student)
    assert client.delete(f"/api/users/users/{student.id}", token=token_for(superuser)).status_code == 204
    assert _get_me(client, student, token).status_code == 401


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer a b"])
def test_malformed_authorization_header_is_401(client, header):
    response = client.get("/api/users/users", headers={"Authorization": header})
    assert response.status_code == 401
