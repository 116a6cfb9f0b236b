/*
 * The two phase handlers: removing client identity headers as soon as the
 * request is read, and deciding access.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_ACCESS_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_ACCESS_H_INCLUDED_


#include "ngx_http_airflow_auth_common.h"


ngx_int_t ngx_http_airflow_auth_post_read_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_airflow_auth_access_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_AIRFLOW_AUTH_ACCESS_H_INCLUDED_ */
