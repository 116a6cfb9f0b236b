/*
 * Sessions from the nginx side: finding the caller's session (cookie, MAC,
 * Redis GET, unseal, expiry), keeping it alive, and ending it.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_SESSION_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_SESSION_H_INCLUDED_


#include "ngx_http_airflow_auth_common.h"


/*
 * NGX_OK with ctx->lookup FOUND, ABSENT or UNAVAILABLE when the answer is
 * known at once; NGX_AGAIN with ctx->lookup PENDING while Redis is asked,
 * after which the request's phases run again; NGX_ERROR.  With use_cache,
 * a cached identity may answer (ctx->vars, user and roles only; the full
 * record is read from Redis otherwise).
 */
ngx_int_t ngx_http_airflow_auth_session_lookup(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx, ngx_uint_t use_cache);

/*
 * Deletes the looked-up session, its index entries and announces the
 * revocation.  NGX_AGAIN while Redis is asked (ctx->lookup becomes ABSENT
 * on success, UNAVAILABLE on failure), NGX_OK when there was nothing to
 * delete, NGX_ERROR.
 */
ngx_int_t ngx_http_airflow_auth_session_destroy(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);

/* The cookie's name for this request: "__Host-" prefixed under TLS. */
void ngx_http_airflow_auth_cookie_name(ngx_http_request_t *r, ngx_str_t *name);

void *ngx_http_airflow_auth_palloc(void *pool, size_t size);


#endif /* _NGX_HTTP_AIRFLOW_AUTH_SESSION_H_INCLUDED_ */
