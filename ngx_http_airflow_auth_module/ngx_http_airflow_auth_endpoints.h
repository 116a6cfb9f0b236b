/*
 * The gateway's own URLs under airflow_auth_endpoint: login, logout,
 * whoami, and later the IdP callbacks.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_ENDPOINTS_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_ENDPOINTS_H_INCLUDED_


#include "ngx_http_airflow_auth_common.h"


typedef enum {
    NGX_HTTP_AIRFLOW_AUTH_EP_NONE = 0,
    NGX_HTTP_AIRFLOW_AUTH_EP_LOGIN,
    NGX_HTTP_AIRFLOW_AUTH_EP_LOGOUT,
    NGX_HTTP_AIRFLOW_AUTH_EP_WHOAMI,
    NGX_HTTP_AIRFLOW_AUTH_EP_UNKNOWN
} ngx_http_airflow_auth_endpoint_e;


ngx_http_airflow_auth_endpoint_e ngx_http_airflow_auth_endpoint_match(
    ngx_http_request_t *r);

/*
 * Serves the endpoint in ctx->endpoint (ctx->step says how far it got).
 * NGX_AGAIN while Redis is asked, NGX_DONE once the response went out, or
 * an HTTP status for nginx to finalize with.
 */
ngx_int_t ngx_http_airflow_auth_endpoint(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);

/* {endpoint}/login?next=<percent-encoded next> */
ngx_int_t ngx_http_airflow_auth_login_url(ngx_http_request_t *r,
    ngx_str_t *next, ngx_str_t *url);

/* 401 with {"error": ..., "login_url": login}; returns NGX_DONE. */
ngx_int_t ngx_http_airflow_auth_login_required(ngx_http_request_t *r,
    ngx_str_t *login);

/* Sends the response and finalizes the request: returns NGX_DONE. */
ngx_int_t ngx_http_airflow_auth_finish(ngx_http_request_t *r, ngx_int_t rc);


#endif /* _NGX_HTTP_AIRFLOW_AUTH_ENDPOINTS_H_INCLUDED_ */
