"""Airflow webserver configuration for running behind the airflow_auth gateway.

Copy this file to $AIRFLOW_HOME/webserver_config.py (Airflow 2.x with the
Flask-AppBuilder auth manager, the default).  The gateway
(ngx_http_airflow_auth_module) signs people in and forwards who they are in
six request headers:

    X-Airflow-User     user name (becomes the FAB user's username)
    X-Airflow-Email    email
    X-Airflow-Name     display name
    X-Airflow-Roles    Airflow roles, comma-separated, already mapped from
                       the user's IdP groups by airflow_auth_roles_mapping
    X-Airflow-Groups   IdP groups, comma-separated (not used here)
    X-Airflow-Idp      the identity provider's name (not used here)

This file makes Airflow believe them: it creates the user on first sight,
updates the name and email, and SYNCS the user's roles to X-Airflow-Roles at
every login and whenever the gateway's identity for the user changes, so
the gateway's roles mapping is the single source of truth (like
AUTH_ROLES_SYNC_AT_LOGIN = True).  Roles given in Airflow's UI are
overwritten at the next login.

    !!  SECURITY: Airflow must be reachable ONLY through the gateway.       !!
    !!  Anyone who can send a request to the webserver directly can claim   !!
    !!  to be any user with any role by sending these headers.  Bind it to  !!
    !!  loopback (AIRFLOW__WEBSERVER__WEB_SERVER_HOST=127.0.0.1) or to a    !!
    !!  network only the gateway can reach; never publish its port.  The    !!
    !!  gateway drops any X-Airflow-*, Remote-User or X-Forwarded-User      !!
    !!  header a client sends, so headers only ever come from it.           !!

Only turn `airflow_auth off` in nginx on locations that serve nothing
sensitive (/health, /static/): a Flask session made earlier still works
there, because a request without X-Airflow-User leaves it alone.

Airflow 3: the webserver became the API server with a React UI, and sign-in
belongs to the auth manager.  The FAB auth manager
(apache-airflow-providers-fab 2.x) still reads this file for its own
/auth/login/ views, so AUTH_REMOTE_USER and SECURITY_MANAGER_CLASS below
apply to that sign-in; after it the UI holds the auth manager's token,
which lives its own lifetime (gateway logout does not end it early).  A
small custom auth manager that reads these headers on every request is the
cleaner fit for Airflow 3.  Neither is tested here yet.
"""

import logging
import os

from flask import abort, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.security.views import AuthRemoteUserView
from flask_login import current_user, login_user, logout_user

try:
    from flask_appbuilder.const import AUTH_REMOTE_USER
except ImportError:  # Flask-AppBuilder < 3
    from flask_appbuilder.security.manager import AUTH_REMOTE_USER

try:
    # Airflow >= 2.9: the FAB auth manager's security manager, which
    # SECURITY_MANAGER_CLASS must extend.
    from airflow.providers.fab.auth_manager.security_manager.override import (
        FabAirflowSecurityManagerOverride as _BaseSecurityManager,
    )
except ImportError:
    from airflow.www.security import (
        AirflowSecurityManager as _BaseSecurityManager,
    )

log = logging.getLogger(__name__)

basedir = os.path.abspath(os.path.dirname(__file__))

WTF_CSRF_ENABLED = True

# The gateway authenticates; Airflow takes the identity from the headers.
AUTH_TYPE = AUTH_REMOTE_USER

# Create users on first sight.  FAB wants a registration role; the roles
# actually granted are the gateway's (below), so give this one nothing.
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = "Public"
AUTH_ROLES_SYNC_AT_LOGIN = True

# Where Airflow's own "Log out" sends the browser: the gateway's logout,
# which deletes the gateway session (or Airflow would sign the user straight
# back in from the headers).  Must match airflow_auth_endpoint.
AIRFLOW_AUTH_GATEWAY_LOGOUT = "/_airflow_auth/logout"

HEADER_USER = "X-Airflow-User"
HEADER_EMAIL = "X-Airflow-Email"
HEADER_NAME = "X-Airflow-Name"
HEADER_ROLES = "X-Airflow-Roles"


def _header(name):
    return (request.headers.get(name) or "").strip()


def _gateway_identity():
    """The identity the gateway forwarded, or None without X-Airflow-User."""
    username = _header(HEADER_USER)
    if not username:
        return None
    return {
        "username": username,
        "email": _header(HEADER_EMAIL),
        "name": _header(HEADER_NAME),
        "roles": [r.strip() for r in _header(HEADER_ROLES).split(",")
                  if r.strip()],
    }


def _safe_next(url, default):
    """A relative path on this host, or default: never an open redirect."""
    if (not url or not url.startswith("/") or url.startswith("//")
            or url.startswith("/\\") or any(ord(c) < 0x20 or c == "\\"
                                            for c in url)):
        return default
    return url


class GatewayAuthView(AuthRemoteUserView):
    """Login and logout for AUTH_REMOTE_USER, with the gateway's headers."""

    login_template = ""

    @expose("/login/")
    def login(self):
        index = self.appbuilder.get_url_for_index
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next"), index))
        user = self.appbuilder.sm.login_from_gateway()
        if user is None:
            # No identity: this request did not come through the gateway,
            # or the user holds no role Airflow knows.  Fail closed.
            abort(403)
        return redirect(_safe_next(request.args.get("next"), index))

    @expose("/logout/")
    def logout(self):
        logout_user()
        return redirect(AIRFLOW_AUTH_GATEWAY_LOGOUT)


class GatewaySecurityManager(_BaseSecurityManager):
    """Trusts the gateway's X-Airflow-* headers; see the module docstring."""

    authremoteuserview = GatewayAuthView

    def __init__(self, appbuilder):
        super().__init__(appbuilder)
        # Runs on every request: a Flask session must never outlive or
        # disagree with the gateway's identity (another user signed in on
        # the same browser, or the user's roles changed at the IdP).
        appbuilder.get_app.before_request(self._follow_gateway)

    def _follow_gateway(self):
        ident = _gateway_identity()
        if ident is None:
            return None
        if current_user.is_authenticated:
            if current_user.username == ident["username"]:
                roles = self._find_roles(ident["roles"])
                if not roles:
                    logout_user()
                    abort(403)
                if ({r.name for r in current_user.roles}
                        != {r.name for r in roles}):
                    self._sync_user(current_user, ident, roles)
                return None
            log.info("airflow_auth: gateway identity changed from %s to "
                     "%s; signing out the old one",
                     current_user.username, ident["username"])
            logout_user()
        user = self.login_from_gateway()
        if user is None:
            abort(403)
        return None

    def login_from_gateway(self):
        """Signs in the gateway's user (creating or updating it)."""
        ident = _gateway_identity()
        if ident is None:
            return None
        user = self.auth_user_gateway(ident)
        if user is None:
            return None
        login_user(user, remember=False)
        g.user = user
        return user

    def auth_user_gateway(self, ident):
        """The FAB user for ident, created or updated, roles synced; None
        (refused) when none of the roles exists in Airflow or the user is
        inactive."""
        roles = self._find_roles(ident["roles"])
        if not roles:
            log.warning("airflow_auth: refusing %s: none of the roles %r "
                        "exists in Airflow", ident["username"],
                        ident["roles"])
            return None

        user = self.find_user(username=ident["username"])
        if user is None:
            first, last = self._split_name(ident)
            user = self.add_user(
                username=ident["username"],
                first_name=first,
                last_name=last,
                email=ident["email"]
                or ident["username"] + "@email.notfound",
                role=roles,
            )
            if not user:
                log.error("airflow_auth: could not create user %s (is the "
                          "email already used by another user?)",
                          ident["username"])
                return None
            log.info("airflow_auth: created user %s with roles %s",
                     ident["username"], [r.name for r in roles])
        else:
            if not user.is_active:
                log.warning("airflow_auth: refusing inactive user %s",
                            ident["username"])
                return None
            self._sync_user(user, ident, roles)

        self.update_user_auth_stat(user, True)
        return user

    def _find_roles(self, names):
        roles = []
        for name in names:
            role = self.find_role(name)
            if role is None:
                log.warning("airflow_auth: role %r from the gateway does not "
                            "exist in Airflow; ignored", name)
                continue
            if role not in roles:
                roles.append(role)
        return roles

    def _sync_user(self, user, ident, roles):
        first, last = self._split_name(ident)
        changed = False
        if ident["email"] and user.email != ident["email"]:
            user.email = ident["email"]
            changed = True
        if ident["name"] and (user.first_name, user.last_name) != (first,
                                                                    last):
            user.first_name, user.last_name = first, last
            changed = True
        if {r.name for r in user.roles} != {r.name for r in roles}:
            log.info("airflow_auth: roles of %s: %s -> %s", user.username,
                     sorted(r.name for r in user.roles),
                     sorted(r.name for r in roles))
            user.roles = roles
            changed = True
        if changed:
            self.update_user(user)

    @staticmethod
    def _split_name(ident):
        first, _, last = ident["name"].partition(" ")
        return (first or ident["username"]), (last or "-")


SECURITY_MANAGER_CLASS = GatewaySecurityManager
