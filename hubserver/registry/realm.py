"""The token endpoint, ``/v2/token``: Docker's registry token protocol, as Docker Hub answers it.

``GET`` (Docker's token protocol) takes optional HTTP Basic credentials (or a
hub API token), ``service`` and any number of ``scope`` parameters, and
``offline_token=true`` for a refresh token. ``POST`` (the OAuth2 form that
containerd and docker use) takes ``grant_type=password`` with ``username`` and
``password``, or ``grant_type=refresh_token`` with ``refresh_token``; ``scope``
(space-separated), and ``access_type=offline`` for a refresh token. Both answer
``{"token", "access_token", "expires_in", "issued_at"}``, and ``refresh_token``
when one was asked for or used. A token grants what the policy allows that
caller on each scope asked for, and nothing else: anonymous callers get pull
of public repositories.
"""

from flask import request

from hubserver import web
from hubserver.accounts import BadBearer, InvalidCredentials
from hubserver.registry import auth
from hubserver.registry.errors import RegistryError
from hubserver.registry.views import blueprint

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="hubserver"'}


def refused():
    return RegistryError("UNAUTHORIZED", headers=BASIC_CHALLENGE)


def token_answer(user, scopes, with_refresh):
    """Return the token endpoint's answer for ``user`` (None: anonymous) and the scopes asked for."""
    bearer = web.accounts().bearer
    answer = bearer.issue(None if user is None else user.name, auth.grants(user, scopes))
    if with_refresh and user is not None:
        answer["refresh_token"] = bearer.refresh_token(user.name)
    return answer


@web.route(blueprint, "/token", ["GET"])
def get_token():
    """Give a registry token for the scopes asked for (Docker's token protocol)."""
    user = web.caller()  # identified already: Basic credentials, or a hub API token, or none
    scopes = [scope for value in request.args.getlist("scope") for scope in value.split()]
    return token_answer(user, scopes, request.args.get("offline_token") == "true")


@web.route(blueprint, "/token", ["POST"])
def post_token():
    """Give a registry token for a password or a refresh token (the OAuth2 form)."""
    form = request.form
    grant_type = form.get("grant_type")
    if grant_type == "password":
        user = password_user(form.get("username", ""), form.get("password", ""))
    elif grant_type == "refresh_token":
        user = refresh_user(form.get("refresh_token", ""))
    else:
        raise RegistryError("UNSUPPORTED", {"grant_type": grant_type}, status=400)
    with_refresh = form.get("access_type") == "offline" or grant_type == "refresh_token"
    return token_answer(user, form.get("scope", "").split(), with_refresh)


def password_user(username, password):
    """Return the User of a name and password (None with accounts off); 401 if they do not match."""
    accounts = web.accounts()
    if not accounts.enabled:
        return None
    try:
        return accounts.check_password(username, password, request.remote_addr)
    except InvalidCredentials:
        raise refused() from None


def refresh_user(token):
    """Return the User a refresh token was given to (None with accounts off); 401 if it does not hold."""
    accounts = web.accounts()
    if not accounts.enabled:
        return None
    try:
        user = accounts.user(accounts.bearer.verify_refresh(token))
    except BadBearer:
        user = None
    if user is None:
        raise refused()
    return user
