/*
 * Every response the module writes itself: HTML pages, JSON bodies and
 * redirects, all with the same protective headers.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_PAGES_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_PAGES_H_INCLUDED_


#include "ngx_http_airflow_auth_common.h"


/* the page's one stylesheet; its hash goes into the CSP */
extern ngx_str_t  ngx_http_airflow_auth_page_style;


/*
 * An HTML page.  title and the text of message are escaped here; extra is
 * HTML the caller built (and escaped) itself, or NULL.
 */
ngx_int_t ngx_http_airflow_auth_send_page(ngx_http_request_t *r,
    ngx_uint_t status, const char *title, ngx_str_t *message,
    ngx_str_t *extra);

/* A JSON body the caller built. */
ngx_int_t ngx_http_airflow_auth_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *json);

/* 302 to a relative location the caller validated. */
ngx_int_t ngx_http_airflow_auth_send_redirect(ngx_http_request_t *r,
    ngx_str_t *location);

/* Adds a response header. */
ngx_int_t ngx_http_airflow_auth_add_header(ngx_http_request_t *r,
    const char *name, ngx_str_t *value);

/* Escapes s for HTML into the request pool. */
ngx_int_t ngx_http_airflow_auth_html(ngx_http_request_t *r, ngx_str_t *s,
    ngx_str_t *out);

/* Builds the CSP header value with the hash of the stylesheet. */
ngx_int_t ngx_http_airflow_auth_pages_csp(ngx_conf_t *cf, ngx_str_t *csp);


#endif /* _NGX_HTTP_AIRFLOW_AUTH_PAGES_H_INCLUDED_ */
