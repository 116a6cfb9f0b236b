/*
 * The worker's Redis connections, driven by nginx events.  Commands are
 * pipelined on one connection and answered in order; a caller that goes
 * away cancels its command and the reply is dropped when it comes.  A second
 * connection, made only on request, listens on a pub/sub channel.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_REDIS_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_REDIS_H_INCLUDED_


#include "ngx_http_airflow_auth_common.h"


/* reply is NULL when the command failed (connection lost, timeout) */
typedef void (*ngx_http_airflow_auth_redis_handler_pt)(void *data,
    aa_reply_t *reply);

/* one message published on the subscribed channel */
typedef void (*ngx_http_airflow_auth_redis_message_pt)(void *data,
    ngx_str_t *payload);

/* the subscription is (again) in place: anything may have been missed */
typedef void (*ngx_http_airflow_auth_redis_sync_pt)(void *data);


/*
 * airflow_auth_redis URL: parses it, resolves every address and, for
 * rediss://, loads the CA certificates, all at configuration time.
 */
char *ngx_http_airflow_auth_redis_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf, ngx_str_t *url);

ngx_http_airflow_auth_redis_t *ngx_http_airflow_auth_redis_create(
    ngx_cycle_t *cycle, ngx_http_airflow_auth_main_conf_t *amcf);

/* Closes the connections (the subscriber's too) without calling handlers. */
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

/*
 * Subscribes to channel (NULL: the module's invalidation channel, prefix
 * "inv") on a second connection of this worker, made from the event loop
 * right after this call and remade after any failure with the usual
 * back-off.  message() gets each payload published on the channel; sync()
 * is called each time the subscription is made, the first time included,
 * since messages published while it was down are lost.  One subscription
 * per client; it ends with ngx_http_airflow_auth_redis_destroy().
 */
ngx_int_t ngx_http_airflow_auth_redis_subscribe(
    ngx_http_airflow_auth_redis_t *rd, ngx_str_t *channel,
    ngx_http_airflow_auth_redis_message_pt message,
    ngx_http_airflow_auth_redis_sync_pt sync, void *data);

/*
 * Whether the subscription of rd is in place now.  A peer that vanished
 * without closing the connection is noticed by a PING within about 10 s
 * plus the Redis timeout; until then this still says yes.
 */
ngx_uint_t ngx_http_airflow_auth_redis_subscribed(
    ngx_http_airflow_auth_redis_t *rd);

/* Logs at most once per interval per worker; says how many were held. */
void ngx_http_airflow_auth_redis_log_error(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *fmt, ...);


#endif /* _NGX_HTTP_AIRFLOW_AUTH_REDIS_H_INCLUDED_ */
