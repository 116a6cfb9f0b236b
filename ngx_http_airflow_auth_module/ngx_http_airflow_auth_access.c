/*
 * The two phase handlers.
 *
 * POST_READ removes every client-sent identity header on each server that
 * uses the module, whatever location the request ends up in.
 *
 * ACCESS serves the endpoints and guards protected locations.  It is
 * entered again after Redis answers: the ctx says how far it got.
 */

#include "ngx_http_airflow_auth_access.h"
#include "ngx_http_airflow_auth_endpoints.h"
#include "ngx_http_airflow_auth_headers.h"
#include "ngx_http_airflow_auth_pages.h"
#include "ngx_http_airflow_auth_session.h"


static ngx_int_t ngx_http_airflow_auth_decide(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);
static ngx_int_t ngx_http_airflow_auth_has_role(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);
static ngx_uint_t ngx_http_airflow_auth_roles_hold(ngx_str_t *roles,
    ngx_str_t *role);
static ngx_int_t ngx_http_airflow_auth_forbid(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);
static ngx_int_t ngx_http_airflow_auth_unauthenticated(ngx_http_request_t *r);
static ngx_int_t ngx_http_airflow_auth_unavailable(ngx_http_request_t *r);


ngx_int_t
ngx_http_airflow_auth_post_read_handler(ngx_http_request_t *r)
{
    ngx_http_airflow_auth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_airflow_auth_module);

    if (!ascf->used) {
        return NGX_DECLINED;
    }

    if (ngx_http_airflow_auth_strip_identity(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_airflow_auth_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_uint_t                         endpoint;
    ngx_http_airflow_auth_ctx_t       *ctx;
    ngx_http_airflow_auth_srv_conf_t  *ascf;
    ngx_http_airflow_auth_loc_conf_t  *alcf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_airflow_auth_module);

    if (!ascf->used) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_airflow_auth_module);

    if (ctx == NULL) {
        alcf = ngx_http_get_module_loc_conf(r, ngx_http_airflow_auth_module);
        endpoint = ngx_http_airflow_auth_endpoint_match(r);

        if (!endpoint && alcf->enable != 1) {
            return NGX_DECLINED;
        }

        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_airflow_auth_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->endpoint = endpoint;
        ngx_http_set_ctx(r, ctx, ngx_http_airflow_auth_module);
    }

    if (ctx->op) {
        /* woken by something else while Redis has not answered yet */
        return NGX_AGAIN;
    }

    if (ctx->endpoint) {
        return ngx_http_airflow_auth_endpoint(r, ctx);
    }

    if (ctx->lookup == NGX_HTTP_AIRFLOW_AUTH_LOOKUP_NONE) {
        rc = ngx_http_airflow_auth_session_lookup(r, ctx, 1);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_airflow_auth_decide(r, ctx);
}


static ngx_int_t
ngx_http_airflow_auth_decide(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    switch (ctx->lookup) {

    case NGX_HTTP_AIRFLOW_AUTH_LOOKUP_FOUND:
        if (ngx_http_airflow_auth_has_role(r, ctx) != NGX_OK) {
            return ngx_http_airflow_auth_forbid(r, ctx);
        }

        if (ngx_http_airflow_auth_set_identity(r, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE:
        return ngx_http_airflow_auth_unavailable(r);

    default:
        return ngx_http_airflow_auth_unauthenticated(r);
    }
}


static ngx_int_t
ngx_http_airflow_auth_has_role(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    ngx_str_t                         *role;
    ngx_uint_t                         i;
    ngx_http_airflow_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airflow_auth_module);

    if (alcf->require_roles == NULL) {
        return NGX_OK;
    }

    role = alcf->require_roles->elts;

    for (i = 0; i < alcf->require_roles->nelts; i++) {
        if (ngx_http_airflow_auth_roles_hold(
                &ctx->vars[NGX_HTTP_AIRFLOW_AUTH_VAR_ROLES], &role[i]))
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * Whether the comma-joined roles, as the upstream gets them, hold role.
 * One form serves a session read from Redis and one from the cache alike;
 * a role name never holds a comma (the mapping and the CLI refuse one).
 */
static ngx_uint_t
ngx_http_airflow_auth_roles_hold(ngx_str_t *roles, ngx_str_t *role)
{
    u_char  *p, *end, *comma;

    p = roles->data;
    end = roles->data + roles->len;

    while (p < end) {
        comma = ngx_strlchr(p, end, ',');
        if (comma == NULL) {
            comma = end;
        }

        if ((size_t) (comma - p) == role->len
            && ngx_strncmp(p, role->data, role->len) == 0)
        {
            return 1;
        }

        p = comma + 1;
    }

    return 0;
}


static ngx_int_t
ngx_http_airflow_auth_forbid(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    u_char                            *p;
    size_t                             len;
    ngx_str_t                          msg, *role;
    ngx_uint_t                         i;
    ngx_http_airflow_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_airflow_auth_module);
    role = alcf->require_roles->elts;

    len = sizeof("You are signed in as \"\", but this page needs the role ")
          - 1 + ctx->session.user.len + sizeof(". Your roles: .") - 1
          + ctx->vars[NGX_HTTP_AIRFLOW_AUTH_VAR_ROLES].len
          + sizeof("none") - 1;

    for (i = 0; i < alcf->require_roles->nelts; i++) {
        len += role[i].len + sizeof("\"\" or ") - 1;
    }

    msg.data = ngx_pnalloc(r->pool, len);
    if (msg.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(msg.data, "You are signed in as \"%*s\", but this page "
                    "needs the role ", ctx->session.user.len,
                    ctx->session.user.data);

    for (i = 0; i < alcf->require_roles->nelts; i++) {
        p = ngx_sprintf(p, i ? " or \"%V\"" : "\"%V\"", &role[i]);
    }

    p = ngx_sprintf(p, ". Your roles: %V.",
                    ctx->vars[NGX_HTTP_AIRFLOW_AUTH_VAR_ROLES].len
                    ? &ctx->vars[NGX_HTTP_AIRFLOW_AUTH_VAR_ROLES]
                    : &(ngx_str_t) ngx_string("none"));

    msg.len = p - msg.data;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  NGX_HTTP_AIRFLOW_AUTH_LOG "\"%*s\" lacks the role "
                  "required for \"%V\"", ctx->session.user.len,
                  ctx->session.user.data, &r->uri);

    return ngx_http_airflow_auth_finish(r,
               ngx_http_airflow_auth_send_page(r, NGX_HTTP_FORBIDDEN,
                                               "Access denied", &msg, NULL));
}


/* a browser goes to sign in; a script is told where to send the user */
static ngx_int_t
ngx_http_airflow_auth_unauthenticated(ngx_http_request_t *r)
{
    ngx_str_t  login;

    if (ngx_http_airflow_auth_login_url(r, &r->unparsed_uri, &login)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_airflow_auth_is_navigation(r)) {
        return ngx_http_airflow_auth_finish(r,
                   ngx_http_airflow_auth_send_redirect(r, &login));
    }

    return ngx_http_airflow_auth_login_required(r, &login);
}


static ngx_int_t
ngx_http_airflow_auth_unavailable(ngx_http_request_t *r)
{
    ngx_str_t  msg;

    if (!ngx_http_airflow_auth_is_navigation(r)) {
        ngx_str_set(&msg, "{\"error\":\"session store unavailable\"}");

        return ngx_http_airflow_auth_finish(r,
                   ngx_http_airflow_auth_send_json(r,
                                       NGX_HTTP_SERVICE_UNAVAILABLE, &msg));
    }

    ngx_str_set(&msg, "The sign-in service cannot reach its session store "
                      "right now. Please try again in a moment.");

    return ngx_http_airflow_auth_finish(r,
               ngx_http_airflow_auth_send_page(r,
                                       NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "Temporarily unavailable", &msg,
                                       NULL));
}
