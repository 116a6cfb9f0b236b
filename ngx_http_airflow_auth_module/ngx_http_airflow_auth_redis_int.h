/*
 * What the files of the Redis client share, and nothing outside them sees:
 * the client's structure and states, and the functions by which the engine
 * (ngx_http_airflow_auth_redis.c) and its TLS, sentinel and subscriber
 * files call one another.
 */

#ifndef _NGX_HTTP_AIRFLOW_AUTH_REDIS_INT_H_INCLUDED_
#define _NGX_HTTP_AIRFLOW_AUTH_REDIS_INT_H_INCLUDED_


#include "ngx_http_airflow_auth_redis.h"


#define NGX_HTTP_AIRFLOW_AUTH_REDIS_PING          10000
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_SETUP     8
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_WHY_LEN       256
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_SHOW_LEN      128


typedef enum {
    NGX_HTTP_AIRFLOW_AUTH_REDIS_CLOSED = 0,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_CONNECTING,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_HANDSHAKE,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_SETUP,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_READY
} ngx_http_airflow_auth_redis_state_e;


/* what a setup command's reply must look like */
typedef enum {
    NGX_HTTP_AIRFLOW_AUTH_REDIS_AUTH = 1,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_SELECT,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_ROLE,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_ASK,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_SUBSCRIBE
} ngx_http_airflow_auth_redis_setup_e;


typedef struct {
    u_char                                  *start;
    u_char                                  *pos;
    u_char                                  *last;
    u_char                                  *end;
} ngx_http_airflow_auth_redis_buf_t;


struct ngx_http_airflow_auth_redis_op_s {
    ngx_queue_t                              queue;
    ngx_http_airflow_auth_redis_handler_pt   handler;
    void                                    *data;
};


struct ngx_http_airflow_auth_redis_s {
    ngx_http_airflow_auth_main_conf_t       *amcf;
    ngx_pool_t                              *pool;
    ngx_log_t                               *log;

    /* the connection's log: catches nginx's own lines about it */
    ngx_log_t                                conn_log;
    u_char                                   why[
                                        NGX_HTTP_AIRFLOW_AUTH_REDIS_WHY_LEN];
    size_t                                   why_len;

    ngx_peer_connection_t                    peer;
    ngx_http_airflow_auth_redis_state_e      state;
    aa_resp_reader_t                        *reader;

    /* which server the connection goes to, for sentinel:// */
    ngx_uint_t                               sentinel;
    ngx_sockaddr_t                           master;
    socklen_t                                master_len;
    ngx_str_t                                master_name;
    u_char                                   master_text[NGX_SOCKADDR_STRLEN];

    /* "sentinel 127.0.0.1:26379: " in front of what is logged */
    ngx_str_t                                where;
    u_char                                   where_text[320];

    ngx_http_airflow_auth_redis_buf_t        setup;
    u_char                                   setup_kind[
                                        NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_SETUP];
    ngx_uint_t                               setup_head;
    ngx_uint_t                               setup_tail;

    ngx_queue_t                              sent;
    ngx_queue_t                              free;
    ngx_uint_t                               nops;
    ngx_http_airflow_auth_redis_buf_t        out;

    ngx_msec_t                               retry_at;
    time_t                                   logged_at;
    ngx_uint_t                               held;

    /* the subscriber, hung off the command client */
    ngx_http_airflow_auth_redis_t           *sub;
    ngx_str_t                                channel;
    ngx_http_airflow_auth_redis_message_pt   message;
    ngx_http_airflow_auth_redis_sync_pt      sync;
    void                                    *sync_data;
    ngx_event_t                              reconnect;
    ngx_event_t                              ping;

    unsigned                                 failed:1;
    unsigned                                 asking:1;
    unsigned                                 authed:1;
    unsigned                                 subscriber:1;
    unsigned                                 pinging:1;
};


/* ngx_http_airflow_auth_redis.c, the engine */
ngx_http_airflow_auth_redis_t *ngx_http_airflow_auth_redis_new(
    ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_airflow_auth_main_conf_t *amcf);
ngx_int_t ngx_http_airflow_auth_redis_begin(ngx_http_airflow_auth_redis_t *rd);
ngx_int_t ngx_http_airflow_auth_redis_start(ngx_http_airflow_auth_redis_t *rd);
ngx_int_t ngx_http_airflow_auth_redis_setup_add(
    ngx_http_airflow_auth_redis_t *rd, ngx_uint_t kind, size_t argc,
    const ngx_str_t *argv);
ngx_int_t ngx_http_airflow_auth_redis_setup_auth(
    ngx_http_airflow_auth_redis_t *rd);
ngx_int_t ngx_http_airflow_auth_redis_append(
    ngx_http_airflow_auth_redis_t *rd, ngx_http_airflow_auth_redis_buf_t *b,
    size_t argc, const ngx_str_t *argv);
void ngx_http_airflow_auth_redis_write_handler(ngx_event_t *wev);
void ngx_http_airflow_auth_redis_connected(ngx_http_airflow_auth_redis_t *rd);
void ngx_http_airflow_auth_redis_read_handler(ngx_event_t *rev);
void ngx_http_airflow_auth_redis_fail(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *fmt, ...);
void ngx_http_airflow_auth_redis_give_up(ngx_http_airflow_auth_redis_t *rd);
void ngx_http_airflow_auth_redis_close(ngx_http_airflow_auth_redis_t *rd);
ngx_uint_t ngx_http_airflow_auth_redis_is(aa_reply_t *r, const char *s);

/* ngx_http_airflow_auth_redis_sentinel.c */
ngx_uint_t ngx_http_airflow_auth_redis_next(ngx_http_airflow_auth_redis_t *rd);
ngx_int_t ngx_http_airflow_auth_redis_setup_ask(
    ngx_http_airflow_auth_redis_t *rd);
ngx_int_t ngx_http_airflow_auth_redis_sentinel_reply(
    ngx_http_airflow_auth_redis_t *rd, aa_reply_t *reply);

/* ngx_http_airflow_auth_redis_sub.c */
ngx_int_t ngx_http_airflow_auth_redis_push(ngx_http_airflow_auth_redis_t *rd,
    aa_reply_t *reply);

#if (NGX_SSL)
/* ngx_http_airflow_auth_redis_tls.c */
void ngx_http_airflow_auth_redis_tls_start(ngx_http_airflow_auth_redis_t *rd);
#endif

#endif /* _NGX_HTTP_AIRFLOW_AUTH_REDIS_INT_H_INCLUDED_ */
