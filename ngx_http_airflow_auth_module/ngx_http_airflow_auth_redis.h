/*
 * The worker's Redis connection, driven by nginx events.  Commands are
 * pipelined on one connection and answered in order; a caller that goes
 * away cancels its command and the reply is dropped when it comes.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_REDIS_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_REDIS_H_INCLUDED_


#include "ngx_http_airflow_auth_common.h"


/* reply is NULL when the command failed (connection lost, timeout) */
typedef void (*ngx_http_airflow_auth_redis_handler_pt)(void *data,
    aa_reply_t *reply);


char *ngx_http_airflow_auth_redis_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf, ngx_str_t *url);

ngx_http_airflow_auth_redis_t *ngx_http_airflow_auth_redis_create(
    ngx_cycle_t *cycle, ngx_http_airflow_auth_main_conf_t *amcf);
void ngx_http_airflow_auth_redis_destroy(ngx_http_airflow_auth_redis_t *rd);

/*
 * Queues a command.  NULL means Redis cannot be asked now (down, backing
 * off, overloaded); the handler is then never called.  Otherwise the
 * handler is called once, later, from the event loop; a NULL handler
 * sends the command and ignores its reply.
 */
ngx_http_airflow_auth_redis_op_t *ngx_http_airflow_auth_redis_command(
    ngx_http_airflow_auth_redis_t *rd, size_t argc, const ngx_str_t *argv,
    ngx_http_airflow_auth_redis_handler_pt handler, void *data);

/* The handler of op will not be called. */
void ngx_http_airflow_auth_redis_cancel(ngx_http_airflow_auth_redis_op_t *op);

/* Logs at most once per interval per worker; says how many were held. */
void ngx_http_airflow_auth_redis_log_error(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *fmt, ...);


#endif /* _NGX_HTTP_AIRFLOW_AUTH_REDIS_H_INCLUDED_ */
