/*
 * The per-instance session cache: what an authenticated request needs,
 * kept in shared memory so that most requests never ask Redis.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_CACHE_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_CACHE_H_INCLUDED_


#include "ngx_http_airflow_auth_common.h"


char *ngx_http_airflow_auth_cache_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf);

/* Subscribes this worker to revocations; the cache is read only then. */
ngx_int_t ngx_http_airflow_auth_cache_init_process(
    ngx_http_airflow_auth_main_conf_t *amcf);

/*
 * NGX_OK with the identity in ctx (vars, user, roles) when a valid entry
 * for ctx->hash is cached; NGX_DECLINED otherwise.
 */
ngx_int_t ngx_http_airflow_auth_cache_get(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);

/* Caches the identity of a session just read from Redis. */
void ngx_http_airflow_auth_cache_put(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);

/*
 * Forgets one session, by its hex hash (logout, revocation message), and
 * keeps a GET already in flight from caching it again.
 */
void ngx_http_airflow_auth_cache_delete(
    ngx_http_airflow_auth_main_conf_t *amcf, u_char *hash, size_t len);

/* Forgets every entry (invalidations may have been missed). */
void ngx_http_airflow_auth_cache_flush(
    ngx_http_airflow_auth_main_conf_t *amcf);


#endif /* _NGX_HTTP_AIRFLOW_AUTH_CACHE_H_INCLUDED_ */
