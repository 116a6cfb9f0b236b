/*
 * The gateway's own URLs under airflow_auth_endpoint: login, logout and
 * whoami.  They are answered from the access phase, before try_files or a
 * content handler of the location they happen to fall in could take them.
 */

#include "ngx_http_airflow_auth_endpoints.h"
#include "ngx_http_airflow_auth_pages.h"
#include "ngx_http_airflow_auth_session.h"


static ngx_int_t ngx_http_airflow_auth_login(ngx_http_request_t *r);
static ngx_int_t ngx_http_airflow_auth_logout(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);
static ngx_int_t ngx_http_airflow_auth_whoami(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);
static ngx_int_t ngx_http_airflow_auth_clear_cookie(ngx_http_request_t *r);


typedef struct {
    ngx_str_t                          path;
    ngx_http_airflow_auth_endpoint_e   endpoint;
} ngx_http_airflow_auth_endpoint_t;


static ngx_http_airflow_auth_endpoint_t  ngx_http_airflow_auth_endpoints[] = {
    { ngx_string("/login"), NGX_HTTP_AIRFLOW_AUTH_EP_LOGIN },
    { ngx_string("/logout"), NGX_HTTP_AIRFLOW_AUTH_EP_LOGOUT },
    { ngx_string("/whoami"), NGX_HTTP_AIRFLOW_AUTH_EP_WHOAMI },
    { ngx_null_string, NGX_HTTP_AIRFLOW_AUTH_EP_NONE }
};


/* steps of the endpoints that ask Redis twice */
#define NGX_HTTP_AIRFLOW_AUTH_STEP_LOOKUP   0
#define NGX_HTTP_AIRFLOW_AUTH_STEP_DELETE   1


ngx_http_airflow_auth_endpoint_e
ngx_http_airflow_auth_endpoint_match(ngx_http_request_t *r)
{
    ngx_str_t                          rest;
    ngx_http_airflow_auth_endpoint_t  *ep;
    ngx_http_airflow_auth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_airflow_auth_module);

    if (r->uri.len <= ascf->endpoint.len
        || ngx_strncmp(r->uri.data, ascf->endpoint.data, ascf->endpoint.len)
           != 0
        || r->uri.data[ascf->endpoint.len] != '/')
    {
        return NGX_HTTP_AIRFLOW_AUTH_EP_NONE;
    }

    rest.data = r->uri.data + ascf->endpoint.len;
    rest.len = r->uri.len - ascf->endpoint.len;

    for (ep = ngx_http_airflow_auth_endpoints; ep->path.len; ep++) {
        if (rest.len == ep->path.len
            && ngx_strncmp(rest.data, ep->path.data, rest.len) == 0)
        {
            return ep->endpoint;
        }
    }

    return NGX_HTTP_AIRFLOW_AUTH_EP_UNKNOWN;
}


ngx_int_t
ngx_http_airflow_auth_endpoint(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    ngx_str_t  msg;

    switch (ctx->endpoint) {

    case NGX_HTTP_AIRFLOW_AUTH_EP_LOGIN:
        return ngx_http_airflow_auth_login(r);

    case NGX_HTTP_AIRFLOW_AUTH_EP_LOGOUT:
        return ngx_http_airflow_auth_logout(r, ctx);

    case NGX_HTTP_AIRFLOW_AUTH_EP_WHOAMI:
        return ngx_http_airflow_auth_whoami(r, ctx);

    default:
        ngx_str_set(&msg, "There is nothing at this address.");
        return ngx_http_airflow_auth_finish(r,
                   ngx_http_airflow_auth_send_page(r, NGX_HTTP_NOT_FOUND,
                                                   "Not found", &msg, NULL));
    }
}


static ngx_int_t
ngx_http_airflow_auth_login(ngx_http_request_t *r)
{
    ngx_str_t  msg;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  NGX_HTTP_AIRFLOW_AUTH_LOG "sign-in requested but no "
                  "identity provider is configured");

    ngx_str_set(&msg, "No identity provider is configured for this gateway, "
                      "so nobody can sign in yet. Ask the operator to add "
                      "an airflow_auth_oidc or airflow_auth_saml block.");

    return ngx_http_airflow_auth_finish(r,
               ngx_http_airflow_auth_send_page(r,
                                       NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "Sign-in unavailable", &msg, NULL));
}


static ngx_int_t
ngx_http_airflow_auth_logout(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  msg, link;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ctx->step == NGX_HTTP_AIRFLOW_AUTH_STEP_LOOKUP) {

        if (ctx->lookup == NGX_HTTP_AIRFLOW_AUTH_LOOKUP_NONE) {
            rc = ngx_http_airflow_auth_session_lookup(r, ctx, 0);
            if (rc != NGX_OK) {
                return rc == NGX_AGAIN ? NGX_AGAIN
                                       : NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        ctx->step = NGX_HTTP_AIRFLOW_AUTH_STEP_DELETE;

        if (ctx->lookup != NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE) {
            /* a stale record is deleted too: only the MAC had to pass */
            rc = ngx_http_airflow_auth_session_destroy(r, ctx);
            if (rc != NGX_OK) {
                return rc == NGX_AGAIN ? NGX_AGAIN
                                       : NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    if (ngx_http_airflow_auth_clear_cookie(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->lookup == NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE) {
        ngx_str_set(&msg, "This browser forgot its session, but the session "
                          "store could not be reached to end it on the "
                          "server. Try signing out again in a moment.");

        return ngx_http_airflow_auth_finish(r,
                   ngx_http_airflow_auth_send_page(r,
                                           NGX_HTTP_SERVICE_UNAVAILABLE,
                                           "Sign-out incomplete", &msg,
                                           NULL));
    }

    if (ctx->session.user.len) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "\"%*s\" signed out",
                      ctx->session.user.len, ctx->session.user.data);
    }

    ngx_str_set(&msg, "You have been signed out of Airflow.");
    ngx_str_set(&link, "<p><a href=\"/\">Sign in again</a></p>");

    return ngx_http_airflow_auth_finish(r,
               ngx_http_airflow_auth_send_page(r, NGX_HTTP_OK, "Signed out",
                                               &msg, &link));
}


static ngx_int_t
ngx_http_airflow_auth_whoami(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t   json, next, login;
    aa_alloc_t  a;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ctx->lookup == NGX_HTTP_AIRFLOW_AUTH_LOOKUP_NONE) {
        rc = ngx_http_airflow_auth_session_lookup(r, ctx, 0);
        if (rc != NGX_OK) {
            return rc == NGX_AGAIN ? NGX_AGAIN
                                   : NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    switch (ctx->lookup) {

    case NGX_HTTP_AIRFLOW_AUTH_LOOKUP_FOUND:
        a.alloc = ngx_http_airflow_auth_palloc;
        a.data = r->pool;

        if (aa_session_identity_json(&ctx->session, &a, (aa_str_t *) &json)
            != AA_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_airflow_auth_finish(r,
                   ngx_http_airflow_auth_send_json(r, NGX_HTTP_OK, &json));

    case NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE:
        ngx_str_set(&json, "{\"error\":\"session store unavailable\"}");

        return ngx_http_airflow_auth_finish(r,
                   ngx_http_airflow_auth_send_json(r,
                                       NGX_HTTP_SERVICE_UNAVAILABLE, &json));

    default:
        ngx_str_set(&next, "/");

        if (ngx_http_airflow_auth_login_url(r, &next, &login) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_airflow_auth_login_required(r, &login);
    }
}


static ngx_int_t
ngx_http_airflow_auth_clear_cookie(ngx_http_request_t *r)
{
    ngx_str_t  name, v;

    static const char  attrs[] = "=; Path=/; Max-Age=0; Secure; HttpOnly; "
                                 "SameSite=Lax";

    ngx_http_airflow_auth_cookie_name(r, &name);

    v.len = name.len + sizeof(attrs) - 1;
    v.data = ngx_pnalloc(r->pool, v.len);
    if (v.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(v.data, name.data, name.len), attrs,
               sizeof(attrs) - 1);

    return ngx_http_airflow_auth_add_header(r, "Set-Cookie", &v);
}


ngx_int_t
ngx_http_airflow_auth_login_url(ngx_http_request_t *r, ngx_str_t *next,
    ngx_str_t *url)
{
    u_char                            *p;
    ngx_http_airflow_auth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_airflow_auth_module);

    url->len = ascf->endpoint.len + sizeof("/login?next=") - 1
               + aa_uri_escape(NULL, next->data, next->len);
    url->data = ngx_pnalloc(r->pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, ascf->endpoint.data, ascf->endpoint.len);
    p = ngx_cpymem(p, "/login?next=", sizeof("/login?next=") - 1);
    aa_uri_escape(p, next->data, next->len);

    return NGX_OK;
}


/* 401 with a JSON body that tells a script where to send its user. */
ngx_int_t
ngx_http_airflow_auth_login_required(ngx_http_request_t *r, ngx_str_t *login)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   json;

    static const char  head[] = "{\"error\":\"authentication required\","
                                "\"login_url\":\"";

    len = aa_json_escape(NULL, login->data, login->len);

    json.len = sizeof(head) - 1 + len + sizeof("\"}") - 1;
    json.data = ngx_pnalloc(r->pool, json.len);
    if (json.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(json.data, head, sizeof(head) - 1);
    p += aa_json_escape(p, login->data, login->len);
    ngx_memcpy(p, "\"}", sizeof("\"}") - 1);

    return ngx_http_airflow_auth_finish(r,
               ngx_http_airflow_auth_send_json(r, NGX_HTTP_UNAUTHORIZED,
                                               &json));
}


ngx_int_t
ngx_http_airflow_auth_finish(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}
