"""Who a ``/v2/`` request comes from and what it may do: credentials, registry tokens, scopes, challenges.

With accounts off, everyone may do everything and nothing is asked. With
accounts on, a request authenticates with a registry token (``Bearer``, from
the token endpoint ``/v2/token``), HTTP Basic, or a hub API token. One with
none, or with a token that is expired, tampered with or too narrow, gets 401
and Docker's challenge, naming the scope it needs::

    WWW-Authenticate: Bearer realm="http://host/v2/token",service="hubserver",scope="repository:ns/app:pull"

A token used beyond its scope, by a caller the policy would let through,
gets 403 ``DENIED`` with the same challenge and ``error="insufficient_scope"``
(as RFC 6750 says; an anonymous token gets the 401), so that the client can
fetch a wider token. A repository the caller may not read answers as one that
does not exist: a known caller gets the route's own "unknown" answer, an
anonymous one the challenge, whether or not the repository is there.
"""

from flask import request

from hubserver import web
from hubserver.accounts import DELETE, PULL, PUSH
from hubserver.names import is_repo_path
from hubserver.registry.errors import RegistryError

SERVICE = "hubserver"
CATALOG = ("registry", "catalog")
# The actions a challenge asks for, by the action a request needs (a push also reads, as clients ask).
ASKED = {PULL: "pull", PUSH: "pull,push", DELETE: "delete"}


def repository_scope(namespace, repo_name, action):
    """Return the scope a request for ``action`` on a repository needs, as a challenge names it."""
    return "repository:%s/%s:%s" % (namespace, repo_name, ASKED[action])


def challenge(scope=None, error=None, code="UNAUTHORIZED"):
    """Return the refusal that asks for a registry token (for ``scope``; ``error`` as RFC 6750 names it).

    A 401 ``UNAUTHORIZED``; with ``code="DENIED"``, the 403 for a token too narrow for its known caller.
    """
    parts = ['realm="%sv2/token"' % request.host_url, 'service="%s"' % SERVICE]
    if scope:
        parts.append('scope="%s"' % scope)
    if error:
        parts.append('error="%s"' % error)
    return RegistryError(code, headers={"WWW-Authenticate": "Bearer " + ",".join(parts)})


def narrow_token(who, scope):
    """Return the refusal of a token that does not grant ``scope`` to a caller who may have one that does."""
    return challenge(scope, "insufficient_scope", "UNAUTHORIZED" if who.user is None else "DENIED")


def caller():
    """Return the Caller of this request: identified once, by the hook every request goes through."""
    return web.request_caller()


def authorize(namespace, repo_name, action):
    """Check the caller may do ``action`` to a repository; return (its User, the repository or None).

    For a pull, a repository the caller may not read comes back as None, as
    one that does not exist; otherwise a refusal is raised: 401 with the
    challenge, or 403 ``DENIED`` for a known caller who may not write there.
    """
    if not is_repo_path(namespace, repo_name):
        raise RegistryError("NAME_INVALID", {"name": "%s/%s" % (namespace, repo_name)})
    store, accounts = web.store(), web.accounts()
    repository = store.find_repository(namespace, repo_name)
    who = caller()
    if not accounts.enabled:
        return None, repository
    allowed = accounts.registry_actions(who.user, namespace, repository)
    scope = repository_scope(namespace, repo_name, action)
    if who.grants is not None:
        granted = who.grants.get(("repository", "%s/%s" % (namespace, repo_name)), set())
        if action not in granted and "*" not in granted:
            if action in allowed or who.user is None:
                raise narrow_token(who, scope)  # a wider token can be had, or credentials can
        elif action in allowed:
            return who.user, repository
    elif not who.presented:
        raise challenge(scope)
    elif action in allowed:
        return who.user, repository
    if who.user is None:
        raise challenge(scope, "insufficient_scope" if who.grants is not None else None)
    if action == PULL:
        return who.user, None  # as if it did not exist
    raise RegistryError("DENIED")


def readable(namespace, repo_name):
    """Return a repository the caller's user may pull from, else None, asking nothing (a mount's source).

    The policy decides, not what a registry token grants: a token names the
    repository it pushes to, and a mount only copies into it what the same
    user may read anyway (a client that mounts without ``from`` names no
    source a token could grant).
    """
    if not is_repo_path(namespace, repo_name):
        return None
    repository = web.store().find_repository(namespace, repo_name)
    accounts = web.accounts()
    if repository is None or not accounts.enabled:
        return repository
    return repository if PULL in accounts.registry_actions(caller().user, namespace, repository) else None


def authorize_catalog():
    """Check the caller may list the catalog; return its User (the catalog shows it what it may see)."""
    who = caller()
    if not web.accounts().enabled:
        return None
    if who.grants is not None and "*" not in who.grants.get(CATALOG, set()):
        raise narrow_token(who, "registry:catalog:*")
    if who.grants is None and not who.presented:
        raise challenge("registry:catalog:*")
    return who.user


def authorize_base():
    """Check the caller presented credentials that hold (any token, anonymous ones too), with accounts on."""
    who = caller()
    if web.accounts().enabled and who.grants is None and not who.presented:
        raise challenge()


# The token endpoint's side: what a token may grant


def normalized(name):
    """Return a registry name as ``namespace/repo_name`` (``library/`` for a one-part name), or None."""
    namespace, _, repo_name = name.rpartition("/")
    namespace = namespace or "library"
    return (namespace, repo_name) if is_repo_path(namespace, repo_name) else None


def grants(user, scopes):
    """Return the grants a token for ``user`` carries for the requested ``scopes``: what the policy allows."""
    store, accounts = web.store(), web.accounts()
    found = []
    for scope in scopes:
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        asked = set(filter(None, actions.split(",")))
        if (kind, name) == CATALOG and asked == {"*"}:
            found.append({"type": "registry", "name": "catalog", "actions": ["*"]})
            continue
        target = normalized(name) if kind == "repository" else None
        if target is None:
            continue
        repository = store.find_repository(*target)
        allowed = accounts.registry_actions(user, target[0], repository)
        given = allowed if "*" in asked else allowed & asked
        found.append({"type": "repository", "name": "%s/%s" % target, "actions": sorted(given)})
    return found
