/*
 * Request headers: removing client-sent identity headers, adding ours for
 * the upstream, and telling a browser navigation from an API call.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_HEADERS_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_HEADERS_H_INCLUDED_


#include "ngx_http_airflow_auth_common.h"


ngx_int_t ngx_http_airflow_auth_strip_identity(ngx_http_request_t *r);
ngx_int_t ngx_http_airflow_auth_set_identity(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);
ngx_uint_t ngx_http_airflow_auth_is_navigation(ngx_http_request_t *r);
ngx_int_t ngx_http_airflow_auth_get_cookie(ngx_http_request_t *r,
    ngx_str_t *name, ngx_str_t *value);


#endif /* _NGX_HTTP_AIRFLOW_AUTH_HEADERS_H_INCLUDED_ */
