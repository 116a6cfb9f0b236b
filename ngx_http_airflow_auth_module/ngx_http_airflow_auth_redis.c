/*
 * The worker's Redis connections, driven by nginx events: the engine, and
 * the client's API but for airflow_auth_redis itself (the _conf.c file)
 * and the subscription (the _sub.c file).
 *
 * One connection per worker carries every command, pipelined: commands are
 * appended to an output buffer that the write handler flushes, and replies
 * come back in order, so the queue of ops in flight pairs each reply with
 * its caller.  Ops live in memory owned by this client, not by requests: a
 * request that ends early only clears its op's handler.
 *
 * A connection is made in steps: the TCP connect; for rediss:// a TLS
 * handshake, after which the certificate is checked against the CA and the
 * host name (ngx_http_airflow_auth_redis_tls.c); then the connection's own
 * setup commands (AUTH, SELECT, ROLE, SUBSCRIBE), sent from a buffer of
 * their own.  Callers' commands wait in the output buffer until setup has
 * succeeded, so a connection that fails before it is ready has sent
 * nothing of theirs.  sentinel:// adds a step in front, asking the
 * sentinels for the master (ngx_http_airflow_auth_redis_sentinel.c).
 *
 * Failures (refused connect, timeout, EOF, protocol error, AUTH refused,
 * no usable sentinel) close the connection, fail every op in flight, and
 * hold new commands off for a second, so a Redis outage costs each request
 * one quick 503 and the log one line per interval, and the next attempt
 * after the pause finds Redis again by itself.  The lines nginx itself logs
 * about the connection (connect(), TLS) are caught and folded into that one
 * rate-limited line.
 *
 * Neither connection holds up a graceful shutdown: an idle one is marked
 * c->idle, so nginx closes it as the worker starts exiting, and the timers
 * of the subscriber are cancelable.
 */

#include "ngx_http_airflow_auth_redis_int.h"


#define NGX_HTTP_AIRFLOW_AUTH_REDIS_BACKOFF       1000
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_LOG_INTERVAL  10
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_OPS       65536
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_OUT       (8 * 1024 * 1024)
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_READ_BUF      16384


static void ngx_http_airflow_auth_redis_free(ngx_http_airflow_auth_redis_t *rd);
static ngx_int_t ngx_http_airflow_auth_redis_connect(
    ngx_http_airflow_auth_redis_t *rd);
static ngx_int_t ngx_http_airflow_auth_redis_setup_commands(
    ngx_http_airflow_auth_redis_t *rd);
static ngx_http_airflow_auth_redis_op_t *ngx_http_airflow_auth_redis_queue(
    ngx_http_airflow_auth_redis_t *rd, size_t argc, const ngx_str_t *argv,
    ngx_http_airflow_auth_redis_handler_pt handler, void *data);
static ngx_int_t ngx_http_airflow_auth_redis_reserve(
    ngx_http_airflow_auth_redis_t *rd, ngx_http_airflow_auth_redis_buf_t *b,
    size_t len);
static void ngx_http_airflow_auth_redis_send(ngx_http_airflow_auth_redis_t *rd);
static ngx_int_t ngx_http_airflow_auth_redis_flush(
    ngx_http_airflow_auth_redis_t *rd, ngx_http_airflow_auth_redis_buf_t *b);
static ngx_int_t ngx_http_airflow_auth_redis_dispatch(
    ngx_http_airflow_auth_redis_t *rd);
static ngx_int_t ngx_http_airflow_auth_redis_setup_reply(
    ngx_http_airflow_auth_redis_t *rd, aa_reply_t *reply);
static ngx_int_t ngx_http_airflow_auth_redis_ready(
    ngx_http_airflow_auth_redis_t *rd);
static ngx_uint_t ngx_http_airflow_auth_redis_awaiting(
    ngx_http_airflow_auth_redis_t *rd);
static void ngx_http_airflow_auth_redis_set_idle(
    ngx_http_airflow_auth_redis_t *rd);
static ngx_int_t ngx_http_airflow_auth_redis_test_connect(ngx_connection_t *c);
static void ngx_http_airflow_auth_redis_say(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *fmt, va_list args);
static void ngx_http_airflow_auth_redis_complain(
    ngx_http_airflow_auth_redis_t *rd, ngx_err_t err, const char *fmt, ...);
static void ngx_http_airflow_auth_redis_log_writer(ngx_log_t *log,
    ngx_uint_t level, u_char *buf, size_t len);


ngx_http_airflow_auth_redis_t *
ngx_http_airflow_auth_redis_create(ngx_cycle_t *cycle,
    ngx_http_airflow_auth_main_conf_t *amcf)
{
    return ngx_http_airflow_auth_redis_new(cycle->pool, cycle->log, amcf);
}


ngx_http_airflow_auth_redis_t *
ngx_http_airflow_auth_redis_new(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_airflow_auth_main_conf_t *amcf)
{
    ngx_http_airflow_auth_redis_t  *rd;

    rd = ngx_pcalloc(pool, sizeof(ngx_http_airflow_auth_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->amcf = amcf;
    rd->pool = pool;
    rd->log = log;

    /*
     * nginx's own lines about the connection (connect() refused, a TLS
     * alert) would come once per attempt: they are caught and said in the
     * one rate-limited line instead
     */
    rd->conn_log = *log;
    rd->conn_log.log_level = NGX_LOG_INFO;
    rd->conn_log.writer = ngx_http_airflow_auth_redis_log_writer;
    rd->conn_log.wdata = rd;
    rd->conn_log.handler = NULL;
    rd->conn_log.next = NULL;

    ngx_str_set(&rd->where, "");

    ngx_queue_init(&rd->sent);
    ngx_queue_init(&rd->free);

    return rd;
}


void
ngx_http_airflow_auth_redis_destroy(ngx_http_airflow_auth_redis_t *rd)
{
    if (rd->sub) {
        ngx_http_airflow_auth_redis_free(rd->sub);
        rd->sub = NULL;
    }

    ngx_http_airflow_auth_redis_free(rd);
}


static void
ngx_http_airflow_auth_redis_free(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_queue_t  *q;

    ngx_http_airflow_auth_redis_close(rd);

    if (rd->reconnect.timer_set) {
        ngx_del_timer(&rd->reconnect);
    }

    if (rd->ping.timer_set) {
        ngx_del_timer(&rd->ping);
    }

    while (!ngx_queue_empty(&rd->sent)) {
        q = ngx_queue_head(&rd->sent);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_http_airflow_auth_redis_op_t, queue));
    }

    while (!ngx_queue_empty(&rd->free)) {
        q = ngx_queue_head(&rd->free);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_http_airflow_auth_redis_op_t, queue));
    }

    rd->nops = 0;

    if (rd->out.start) {
        ngx_free(rd->out.start);
        ngx_memzero(&rd->out, sizeof(ngx_http_airflow_auth_redis_buf_t));
    }

    if (rd->setup.start) {
        ngx_free(rd->setup.start);
        ngx_memzero(&rd->setup, sizeof(ngx_http_airflow_auth_redis_buf_t));
    }
}


ngx_http_airflow_auth_redis_op_t *
ngx_http_airflow_auth_redis_command(ngx_http_airflow_auth_redis_t *rd,
    size_t argc, const ngx_str_t *argv,
    ngx_http_airflow_auth_redis_handler_pt handler, void *data)
{
    ngx_http_airflow_auth_redis_op_t  *op;

    if (rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_CLOSED) {

        if ((ngx_msec_int_t) (rd->retry_at - ngx_current_msec) > 0) {
            return NULL;
        }

        if (ngx_http_airflow_auth_redis_begin(rd) != NGX_OK) {
            ngx_http_airflow_auth_redis_give_up(rd);
            return NULL;
        }
    }

    if (rd->nops >= NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_OPS) {
        ngx_http_airflow_auth_redis_log_error(rd, 0,
                                    "%ui commands in flight, refusing more",
                                    rd->nops);
        return NULL;
    }

    op = ngx_http_airflow_auth_redis_queue(rd, argc, argv, handler, data);
    if (op == NULL) {
        return NULL;
    }

    if (rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_READY) {
        rd->peer.connection->idle = 0;

        /* one send for every command queued in this event loop turn */
        ngx_post_event(rd->peer.connection->write, &ngx_posted_events);
    }

    /* otherwise it goes out once the connection is ready */

    return op;
}


void
ngx_http_airflow_auth_redis_cancel(ngx_http_airflow_auth_redis_op_t *op)
{
    op->handler = NULL;
    op->data = NULL;
}


/* A new connection: the first sentinel is asked first, every time. */
ngx_int_t
ngx_http_airflow_auth_redis_begin(ngx_http_airflow_auth_redis_t *rd)
{
    rd->sentinel = 0;
    rd->asking = (rd->amcf->redis.scheme == AA_REDIS_SENTINEL);

    return ngx_http_airflow_auth_redis_start(rd);
}


/*
 * Connects to the server at hand or, when that fails at once, to the next
 * one there is; NGX_DECLINED when none is left.
 */
ngx_int_t
ngx_http_airflow_auth_redis_start(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_int_t  rc;

    for ( ;; ) {
        rc = ngx_http_airflow_auth_redis_connect(rd);

        if (rc != NGX_DECLINED) {
            return rc;
        }

        if (!ngx_http_airflow_auth_redis_next(rd)) {
            return NGX_DECLINED;
        }
    }
}


/*
 * Starts one connection and queues its setup commands.  NGX_DECLINED (after
 * saying why) when the connect failed at once; NGX_ERROR when out of memory.
 */
static ngx_int_t
ngx_http_airflow_auth_redis_connect(ngx_http_airflow_auth_redis_t *rd)
{
    u_char                             *p;
    ngx_int_t                           rc;
    ngx_err_t                           err;
    ngx_addr_t                         *addr;
    ngx_connection_t                   *c;
    ngx_http_airflow_auth_main_conf_t  *amcf;

    amcf = rd->amcf;

    ngx_memzero(&rd->peer, sizeof(ngx_peer_connection_t));

    if (rd->asking) {
        addr = &amcf->redis_sentinels[rd->sentinel];

        rd->peer.sockaddr = addr->sockaddr;
        rd->peer.socklen = addr->socklen;
        rd->peer.name = &addr->name;

        p = ngx_snprintf(rd->where_text, sizeof(rd->where_text),
                         "sentinel %V: ", &addr->name);

    } else if (amcf->redis.scheme == AA_REDIS_SENTINEL) {
        rd->peer.sockaddr = &rd->master.sockaddr;
        rd->peer.socklen = rd->master_len;
        rd->peer.name = &rd->master_name;

        p = ngx_snprintf(rd->where_text, sizeof(rd->where_text),
                         "master %V: ", &rd->master_name);

    } else {
        rd->peer.sockaddr = amcf->redis_addr->sockaddr;
        rd->peer.socklen = amcf->redis_addr->socklen;
        rd->peer.name = &amcf->redis_name;

        p = rd->where_text;
    }

    rd->where.data = rd->where_text;
    rd->where.len = p - rd->where_text;

    rd->peer.get = ngx_event_get_peer;
    rd->peer.log = &rd->conn_log;
    rd->peer.log_error = NGX_ERROR_ERR;

    rd->why_len = 0;
    rd->authed = 0;

    rc = ngx_event_connect_peer(&rd->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        err = rd->why_len ? 0 : ngx_socket_errno;
        rd->peer.connection = NULL;
        ngx_http_airflow_auth_redis_complain(rd, err, "cannot connect");
        return NGX_DECLINED;
    }

    c = rd->peer.connection;
    c->data = rd;
    c->read->handler = ngx_http_airflow_auth_redis_read_handler;
    c->write->handler = ngx_http_airflow_auth_redis_write_handler;

    rd->state = NGX_HTTP_AIRFLOW_AUTH_REDIS_CONNECTING;

    rd->reader = aa_resp_reader_new();

    if (rd->reader == NULL
        || ngx_http_airflow_auth_redis_setup_commands(rd) != NGX_OK)
    {
        ngx_http_airflow_auth_redis_log_error(rd, 0, "out of memory");
        ngx_http_airflow_auth_redis_close(rd);
        return NGX_ERROR;
    }

    if (rc == NGX_AGAIN) {
        ngx_add_timer(c->write, amcf->redis_timeout);
        return NGX_OK;
    }

    /* connected at once (unix sockets usually are) */
    ngx_post_event(c->write, &ngx_posted_events);

    return NGX_OK;
}


/* What goes first on a new connection, before any caller's command. */
static ngx_int_t
ngx_http_airflow_auth_redis_setup_commands(ngx_http_airflow_auth_redis_t *rd)
{
    u_char           db[NGX_INT_T_LEN];
    ngx_str_t        argv[2];
    aa_redis_url_t  *u;

    u = &rd->amcf->redis;

    if (rd->asking) {
        /* a sentinel gets AUTH only if it asks for it (NOAUTH) */
        return ngx_http_airflow_auth_redis_setup_ask(rd);
    }

    if (u->password.len
        && ngx_http_airflow_auth_redis_setup_auth(rd) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* pub/sub knows no databases */
    if (u->db && !rd->subscriber) {
        ngx_str_set(&argv[0], "SELECT");
        argv[1].data = db;
        argv[1].len = ngx_sprintf(db, "%d", u->db) - db;

        if (ngx_http_airflow_auth_redis_setup_add(rd,
                                        NGX_HTTP_AIRFLOW_AUTH_REDIS_SELECT,
                                        2, argv)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    /* a sentinel may name a master that has just been demoted */
    if (u->scheme == AA_REDIS_SENTINEL) {
        ngx_str_set(&argv[0], "ROLE");

        if (ngx_http_airflow_auth_redis_setup_add(rd,
                                        NGX_HTTP_AIRFLOW_AUTH_REDIS_ROLE,
                                        1, argv)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (rd->subscriber) {
        ngx_str_set(&argv[0], "SUBSCRIBE");
        argv[1] = rd->channel;

        if (ngx_http_airflow_auth_redis_setup_add(rd,
                                        NGX_HTTP_AIRFLOW_AUTH_REDIS_SUBSCRIBE,
                                        2, argv)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_airflow_auth_redis_setup_add(ngx_http_airflow_auth_redis_t *rd,
    ngx_uint_t kind, size_t argc, const ngx_str_t *argv)
{
    if (rd->setup_tail == NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_SETUP) {
        return NGX_ERROR;
    }

    if (ngx_http_airflow_auth_redis_append(rd, &rd->setup, argc, argv)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rd->setup_kind[rd->setup_tail++] = (u_char) kind;

    return NGX_OK;
}


ngx_int_t
ngx_http_airflow_auth_redis_setup_auth(ngx_http_airflow_auth_redis_t *rd)
{
    size_t           n;
    ngx_str_t        argv[3];
    aa_redis_url_t  *u;

    u = &rd->amcf->redis;

    /* ngx_str_set() is two statements: no n++ inside it */
    ngx_str_set(&argv[0], "AUTH");
    n = 1;

    if (u->username.len) {
        argv[n].data = u->username.data;
        argv[n].len = u->username.len;
        n++;
    }

    argv[n].data = u->password.data;
    argv[n].len = u->password.len;
    n++;

    return ngx_http_airflow_auth_redis_setup_add(rd,
                                        NGX_HTTP_AIRFLOW_AUTH_REDIS_AUTH,
                                        n, argv);
}


static ngx_http_airflow_auth_redis_op_t *
ngx_http_airflow_auth_redis_queue(ngx_http_airflow_auth_redis_t *rd,
    size_t argc, const ngx_str_t *argv,
    ngx_http_airflow_auth_redis_handler_pt handler, void *data)
{
    ngx_queue_t                       *q;
    ngx_http_airflow_auth_redis_op_t  *op;

    if (!ngx_queue_empty(&rd->free)) {
        q = ngx_queue_head(&rd->free);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_airflow_auth_redis_op_t, queue);

    } else {
        op = ngx_alloc(sizeof(ngx_http_airflow_auth_redis_op_t), rd->log);
        if (op == NULL) {
            return NULL;
        }
    }

    if (ngx_http_airflow_auth_redis_append(rd, &rd->out, argc, argv)
        != NGX_OK)
    {
        ngx_queue_insert_head(&rd->free, &op->queue);
        return NULL;
    }

    op->handler = handler;
    op->data = data;

    ngx_queue_insert_tail(&rd->sent, &op->queue);
    rd->nops++;

    return op;
}


ngx_int_t
ngx_http_airflow_auth_redis_append(ngx_http_airflow_auth_redis_t *rd,
    ngx_http_airflow_auth_redis_buf_t *b, size_t argc, const ngx_str_t *argv)
{
    size_t  len;

    /* ngx_str_t and aa_str_t share one layout */
    len = aa_resp_command_len(argc, (const aa_str_t *) argv);

    if (ngx_http_airflow_auth_redis_reserve(rd, b, len) != NGX_OK) {
        return NGX_ERROR;
    }

    b->last = aa_resp_command_write(b->last, argc, (const aa_str_t *) argv);

    return NGX_OK;
}


static ngx_int_t
ngx_http_airflow_auth_redis_reserve(ngx_http_airflow_auth_redis_t *rd,
    ngx_http_airflow_auth_redis_buf_t *b, size_t len)
{
    size_t   used, size;
    u_char  *p;

    if ((size_t) (b->end - b->last) >= len) {
        return NGX_OK;
    }

    used = b->last - b->pos;

    if (used + len > NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_OUT) {
        ngx_http_airflow_auth_redis_log_error(rd, 0,
                                "cannot queue a %uz-byte command behind %uz "
                                "bytes not sent yet", len, used);
        return NGX_ERROR;
    }

    /*
     * Move what is left to the front, or grow.  Under TLS a write that
     * came back NGX_AGAIN is retried from the new place with the same
     * bytes: the context accepts a moving buffer.
     */
    size = b->end - b->start;

    if (used + len > size) {
        size = ngx_max(4096, 2 * size);

        while (size < used + len) {
            size *= 2;
        }

        p = ngx_alloc(size, rd->log);
        if (p == NULL) {
            return NGX_ERROR;
        }

    } else {
        p = b->start;
    }

    if (used) {
        ngx_memmove(p, b->pos, used);
    }

    if (p != b->start) {
        if (b->start) {
            ngx_free(b->start);
        }

        b->start = p;
        b->end = p + size;
    }

    b->pos = p;
    b->last = p + used;

    return NGX_OK;
}


void
ngx_http_airflow_auth_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t               *c;
    ngx_http_airflow_auth_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    if (wev->timedout) {
        ngx_http_airflow_auth_redis_fail(rd, NGX_ETIMEDOUT,
                        rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_CONNECTING
                        ? "connect() timed out" : "send() timed out");
        return;
    }

    if (rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_CONNECTING) {
        if (ngx_http_airflow_auth_redis_test_connect(c) != NGX_OK) {
            ngx_http_airflow_auth_redis_fail(rd, ngx_socket_errno,
                                             "connect() failed");
            return;
        }

#if (NGX_SSL)
        /* sentinel:// is never TLS, so only rediss:// has a context */
        if (rd->amcf->redis_ssl) {
            ngx_http_airflow_auth_redis_tls_start(rd);
            return;
        }
#endif

        ngx_http_airflow_auth_redis_connected(rd);
        return;
    }

    ngx_http_airflow_auth_redis_send(rd);
}


/* Connected (and through TLS): the setup commands go out. */
void
ngx_http_airflow_auth_redis_connected(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_connection_t  *c;

    c = rd->peer.connection;

    /* the connect timer, which covered the TLS handshake too */
    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (rd->setup_head < rd->setup_tail) {
        rd->state = NGX_HTTP_AIRFLOW_AUTH_REDIS_SETUP;

    } else if (ngx_http_airflow_auth_redis_ready(rd) != NGX_OK) {
        return;
    }

    ngx_http_airflow_auth_redis_send(rd);
}


/*
 * Flushes the setup commands and, once the connection is ready, the
 * callers' commands; arms the timers for what is left unsent and for the
 * replies awaited.
 */
static void
ngx_http_airflow_auth_redis_send(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_int_t          rc;
    ngx_event_t       *wev;
    ngx_connection_t  *c;

    c = rd->peer.connection;
    wev = c->write;

    rc = ngx_http_airflow_auth_redis_flush(rd, &rd->setup);

    if (rc == NGX_OK && rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_READY) {
        rc = ngx_http_airflow_auth_redis_flush(rd, &rd->out);
    }

    if (rc == NGX_ERROR) {
        return;
    }

    if (rc == NGX_OK) {
        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

    } else if (!wev->timer_set) {
        ngx_add_timer(wev, rd->amcf->redis_timeout);
    }

    if (ngx_http_airflow_auth_redis_awaiting(rd) && !c->read->timer_set) {
        ngx_add_timer(c->read, rd->amcf->redis_timeout);
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "cannot add write event");
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "cannot add read event");
    }
}


/* NGX_OK when b is empty, NGX_AGAIN when the socket is full. */
static ngx_int_t
ngx_http_airflow_auth_redis_flush(ngx_http_airflow_auth_redis_t *rd,
    ngx_http_airflow_auth_redis_buf_t *b)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = rd->peer.connection;

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN || n == 0) {
            return NGX_AGAIN;
        }

        if (n == NGX_ERROR) {
            ngx_http_airflow_auth_redis_fail(rd, 0, "send() failed");
            return NGX_ERROR;
        }

        b->pos += n;
    }

    b->pos = b->start;
    b->last = b->start;

    return NGX_OK;
}


void
ngx_http_airflow_auth_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                         n;
    ngx_connection_t               *c;
    ngx_http_airflow_auth_redis_t  *rd;
    u_char                          buf[NGX_HTTP_AIRFLOW_AUTH_REDIS_READ_BUF];

    c = rev->data;
    rd = c->data;

    if (c->close) {
        /* the worker is exiting and closes its idle connections */
        c->close = 0;

        if (c->idle) {
            ngx_http_airflow_auth_redis_close(rd);
            return;
        }
    }

    if (rev->timedout) {
        ngx_http_airflow_auth_redis_fail(rd, NGX_ETIMEDOUT,
                        rd->pinging ? "no answer to PING in time"
                                    : "no reply in time");
        return;
    }

    if (rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_CONNECTING) {
        /* the connect is still under way: the write event decides */
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            if (rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_READY
                && !rd->subscriber
                && !ngx_http_airflow_auth_redis_awaiting(rd))
            {
                /* an idle connection closed by Redis: reconnect on demand */
                ngx_http_airflow_auth_redis_close(rd);
                return;
            }

            ngx_http_airflow_auth_redis_fail(rd, 0,
                                             "connection closed by Redis");
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_airflow_auth_redis_fail(rd, 0, "connection lost");
            return;
        }

        if (aa_resp_reader_feed(rd->reader, buf, n) != AA_OK) {
            ngx_http_airflow_auth_redis_fail(rd, 0, "reply too large");
            return;
        }

        if (ngx_http_airflow_auth_redis_dispatch(rd) != NGX_OK) {
            return;
        }
    }

    if (rev->timer_set) {
        ngx_del_timer(rev);
    }

    if (ngx_http_airflow_auth_redis_awaiting(rd)) {
        ngx_add_timer(rev, rd->amcf->redis_timeout);
    }

    ngx_http_airflow_auth_redis_set_idle(rd);

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "cannot add read event");
    }
}


/*
 * Hands each complete reply to whoever waits for it: the setup step, the
 * subscriber, or the op at the head of the queue.  NGX_OK to read on;
 * otherwise the connection is gone (failed, or replaced by the master's).
 */
static ngx_int_t
ngx_http_airflow_auth_redis_dispatch(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_int_t                                rc;
    ngx_queue_t                             *q;
    aa_reply_t                              *reply;
    ngx_http_airflow_auth_redis_op_t        *op;
    ngx_http_airflow_auth_redis_handler_pt   handler;

    for ( ;; ) {
        if (aa_resp_reader_get(rd->reader, &reply) != AA_OK) {
            ngx_http_airflow_auth_redis_fail(rd, 0, "bad reply: %s",
                                        aa_resp_reader_error(rd->reader));
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        if (rd->state != NGX_HTTP_AIRFLOW_AUTH_REDIS_READY) {
            rc = ngx_http_airflow_auth_redis_setup_reply(rd, reply);
            aa_reply_free(reply);

            if (rc != NGX_OK) {
                return rc;
            }

            continue;
        }

        if (rd->subscriber) {
            rc = ngx_http_airflow_auth_redis_push(rd, reply);
            aa_reply_free(reply);

            if (rc != NGX_OK) {
                return rc;
            }

            continue;
        }

        if (ngx_queue_empty(&rd->sent)) {
            aa_reply_free(reply);
            ngx_http_airflow_auth_redis_fail(rd, 0, "unexpected reply");
            return NGX_ERROR;
        }

        /*
         * A master demoted under us answers writes so: its callers get a
         * failure, and the next connection asks the sentinels again.
         */
        if (reply->type == AA_REPLY_ERROR
            && rd->amcf->redis.scheme == AA_REDIS_SENTINEL
            && ngx_strncmp(reply->str, "READONLY", 8) == 0)
        {
            aa_reply_free(reply);
            ngx_http_airflow_auth_redis_fail(rd, 0, "no longer the master "
                                             "(READONLY)");
            return NGX_ERROR;
        }

        q = ngx_queue_head(&rd->sent);
        ngx_queue_remove(q);
        rd->nops--;

        op = ngx_queue_data(q, ngx_http_airflow_auth_redis_op_t, queue);

        handler = op->handler;
        ngx_queue_insert_head(&rd->free, q);

        if (handler) {
            handler(op->data, reply);
        }

        aa_reply_free(reply);
    }
}


/* The reply to a setup command; the last one makes the connection ready. */
static ngx_int_t
ngx_http_airflow_auth_redis_setup_reply(ngx_http_airflow_auth_redis_t *rd,
    aa_reply_t *reply)
{
    size_t      len;
    u_char     *text;
    ngx_uint_t  kind;

    if (rd->setup_head == rd->setup_tail) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "unexpected reply");
        return NGX_ERROR;
    }

    kind = rd->setup_kind[rd->setup_head++];

    /* Redis's error texts never echo the password */
    text = reply->str ? reply->str : (u_char *) "";
    len = reply->str ? ngx_min(reply->len, NGX_HTTP_AIRFLOW_AUTH_REDIS_SHOW_LEN)
                     : 0;

    switch (kind) {

    case NGX_HTTP_AIRFLOW_AUTH_REDIS_ASK:
        return ngx_http_airflow_auth_redis_sentinel_reply(rd, reply);

    case NGX_HTTP_AIRFLOW_AUTH_REDIS_AUTH:
    case NGX_HTTP_AIRFLOW_AUTH_REDIS_SELECT:
        if (reply->type == AA_REPLY_ERROR) {
            ngx_http_airflow_auth_redis_fail(rd, 0, "%s refused: %*s",
                                  kind == NGX_HTTP_AIRFLOW_AUTH_REDIS_AUTH
                                  ? "AUTH" : "SELECT", len, text);
            return NGX_ERROR;
        }

        break;

    case NGX_HTTP_AIRFLOW_AUTH_REDIS_ROLE:
        if (reply->type != AA_REPLY_ARRAY || reply->elements == 0
            || !ngx_http_airflow_auth_redis_is(reply->element[0], "master"))
        {
            if (reply->type == AA_REPLY_ARRAY && reply->elements
                && reply->element[0]->type == AA_REPLY_STRING)
            {
                len = ngx_min(reply->element[0]->len,
                              NGX_HTTP_AIRFLOW_AUTH_REDIS_SHOW_LEN);
                ngx_http_airflow_auth_redis_fail(rd, 0, "not the master "
                                        "(ROLE: %*s)", len,
                                        reply->element[0]->str);

            } else {
                ngx_http_airflow_auth_redis_fail(rd, 0, "ROLE refused: %*s",
                                                 len, text);
            }

            return NGX_ERROR;
        }

        break;

    default: /* NGX_HTTP_AIRFLOW_AUTH_REDIS_SUBSCRIBE */
        if (reply->type != AA_REPLY_ARRAY || reply->elements != 3
            || !ngx_http_airflow_auth_redis_is(reply->element[0],
                                               "subscribe"))
        {
            ngx_http_airflow_auth_redis_fail(rd, 0, "SUBSCRIBE refused: %*s",
                                             len, text);
            return NGX_ERROR;
        }

        break;
    }

    if (rd->setup_head == rd->setup_tail) {
        return ngx_http_airflow_auth_redis_ready(rd);
    }

    return NGX_OK;
}


/* NGX_DONE when the connection, no longer wanted, was closed instead */
static ngx_int_t
ngx_http_airflow_auth_redis_ready(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_connection_t  *c;

    c = rd->peer.connection;
    rd->state = NGX_HTTP_AIRFLOW_AUTH_REDIS_READY;

    if (rd->failed) {
        rd->failed = 0;
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "redis %V%s: %Vconnected "
                      "again", &rd->amcf->redis_name,
                      rd->subscriber ? " subscriber" : "", &rd->where);
    }

    if (rd->out.pos < rd->out.last) {
        ngx_post_event(c->write, &ngx_posted_events);
    }

    ngx_http_airflow_auth_redis_set_idle(rd);

    if (rd->subscriber && ngx_exiting) {
        /* made after nginx closed the idle connections: not wanted now */
        ngx_http_airflow_auth_redis_close(rd);
        return NGX_DONE;
    }

    if (rd->subscriber) {
        ngx_add_timer(&rd->ping, NGX_HTTP_AIRFLOW_AUTH_REDIS_PING);

        /* whatever was published while down is lost: the owner resyncs */
        rd->sync(rd->sync_data);
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_airflow_auth_redis_awaiting(ngx_http_airflow_auth_redis_t *rd)
{
    return rd->setup_head < rd->setup_tail || !ngx_queue_empty(&rd->sent)
           || rd->pinging;
}


/*
 * An idle connection is one nginx may close when the worker starts exiting:
 * a ready one with no reply outstanding, or a subscribed one.
 */
static void
ngx_http_airflow_auth_redis_set_idle(ngx_http_airflow_auth_redis_t *rd)
{
    if (rd->peer.connection == NULL) {
        return;
    }

    rd->peer.connection->idle =
        rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_READY
        && (rd->subscriber || ngx_queue_empty(&rd->sent));
}


static ngx_int_t
ngx_http_airflow_auth_redis_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_set_socket_errno(err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Logs (rate-limited) what failed, where ("sentinel h:p: "), and what
 * nginx said about it, if anything.
 */
static void
ngx_http_airflow_auth_redis_say(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *fmt, va_list args)
{
    u_char  *p, *last, msg[NGX_MAX_ERROR_STR];

    last = msg + sizeof(msg);

    p = ngx_vslprintf(msg, last, fmt, args);

    if (rd->why_len) {
        p = ngx_slprintf(p, last, " (%*s)", rd->why_len, rd->why);
        rd->why_len = 0;
    }

    ngx_http_airflow_auth_redis_log_error(rd, err, "%V%*s", &rd->where,
                                          p - msg, msg);
}


static void
ngx_http_airflow_auth_redis_complain(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    ngx_http_airflow_auth_redis_say(rd, err, fmt, args);
    va_end(args);
}


/*
 * Closes the connection.  Before it was ready nothing of the callers' was
 * sent, so for sentinel:// the next sentinel is tried with their commands
 * still queued; otherwise every op in flight fails and new commands wait
 * for the back-off.  Their handlers run after the client is consistent
 * again, and a command issued from one of them is refused until the
 * back-off ends.
 */
void
ngx_http_airflow_auth_redis_fail(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *fmt, ...)
{
    va_list     args;
    ngx_uint_t  ready;

    if (fmt) {
        va_start(args, fmt);
        ngx_http_airflow_auth_redis_say(rd, err, fmt, args);
        va_end(args);
    }

    ready = (rd->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_READY);

    if (rd->peer.connection) {
        /* no TLS close_notify to a peer that failed us */
        rd->peer.connection->error = 1;
        ngx_http_airflow_auth_redis_close(rd);
    }

    if (!ready
        && ngx_http_airflow_auth_redis_next(rd)
        && ngx_http_airflow_auth_redis_start(rd) == NGX_OK)
    {
        return;
    }

    ngx_http_airflow_auth_redis_give_up(rd);
}


/* No server to be had now: fail what is queued and back off. */
void
ngx_http_airflow_auth_redis_give_up(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_queue_t                              failed, *q;
    ngx_http_airflow_auth_redis_op_t        *op;
    ngx_http_airflow_auth_redis_handler_pt   handler;

    ngx_http_airflow_auth_redis_close(rd);

    rd->retry_at = ngx_current_msec + NGX_HTTP_AIRFLOW_AUTH_REDIS_BACKOFF;
    rd->failed = 1;

    rd->out.pos = rd->out.start;
    rd->out.last = rd->out.start;

    if (rd->subscriber && !ngx_exiting && !rd->reconnect.timer_set) {
        ngx_add_timer(&rd->reconnect, NGX_HTTP_AIRFLOW_AUTH_REDIS_BACKOFF);
    }

    ngx_queue_init(&failed);

    if (!ngx_queue_empty(&rd->sent)) {
        failed = rd->sent;
        failed.next->prev = &failed;
        failed.prev->next = &failed;
        ngx_queue_init(&rd->sent);
    }

    rd->nops = 0;

    while (!ngx_queue_empty(&failed)) {
        q = ngx_queue_head(&failed);
        ngx_queue_remove(q);

        op = ngx_queue_data(q, ngx_http_airflow_auth_redis_op_t, queue);
        handler = op->handler;
        ngx_queue_insert_head(&rd->free, q);

        if (handler) {
            handler(op->data, NULL);
        }
    }
}


/* Closes the connection only: the callers' commands stay queued. */
void
ngx_http_airflow_auth_redis_close(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_pool_t        *pool;
    ngx_connection_t  *c;

    c = rd->peer.connection;

    if (c) {
        pool = c->pool;

#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;

            if (ngx_ssl_shutdown(c) == NGX_AGAIN) {
                /* the close_notify did not fit: free the TLS state now */
                c->error = 1;
                (void) ngx_ssl_shutdown(c);
            }
        }
#endif

        ngx_close_connection(c);
        rd->peer.connection = NULL;

        if (pool) {
            ngx_destroy_pool(pool);
        }
    }

    if (rd->reader) {
        aa_resp_reader_free(rd->reader);
        rd->reader = NULL;
    }

    rd->setup.pos = rd->setup.start;
    rd->setup.last = rd->setup.start;
    rd->setup_head = 0;
    rd->setup_tail = 0;

    if (rd->subscriber) {
        /* a PING queued and never sent, or sent and never answered */
        rd->out.pos = rd->out.start;
        rd->out.last = rd->out.start;
        rd->pinging = 0;

        if (rd->ping.timer_set) {
            ngx_del_timer(&rd->ping);
        }
    }

    rd->state = NGX_HTTP_AIRFLOW_AUTH_REDIS_CLOSED;
}


/*
 * The writer of the connection's log: keeps the last line nginx wrote about
 * the connection, past its "time [level] pid#tid: " head, for the next
 * rate-limited line of ours.  Alerts (a failed system call on the socket)
 * say something is wrong with the worker, not with Redis: they go through.
 */
static void
ngx_http_airflow_auth_redis_log_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len)
{
    u_char                         *p, *last;
    ngx_http_airflow_auth_redis_t  *rd;

    rd = log->wdata;
    last = buf + len;

    while (last > buf && (last[-1] == LF || last[-1] == CR)) {
        last--;
    }

    p = ngx_strlchr(buf, last, ']');

    if (p != NULL) {
        for ( /* void */ ; p + 1 < last; p++) {
            if (p[0] == ':' && p[1] == ' ') {
                break;
            }
        }

        p = (p + 1 < last) ? p + 2 : buf;

    } else {
        p = buf;
    }

    if (level <= NGX_LOG_ALERT) {
        ngx_log_error(level, rd->log, 0, "%*s", (size_t) (last - p), p);
        return;
    }

    rd->why_len = ngx_min((size_t) (last - p),
                          NGX_HTTP_AIRFLOW_AUTH_REDIS_WHY_LEN);
    ngx_memcpy(rd->why, p, rd->why_len);
}


ngx_uint_t
ngx_http_airflow_auth_redis_is(aa_reply_t *r, const char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    return (r->type == AA_REPLY_STRING || r->type == AA_REPLY_STATUS)
           && r->len == len
           && ngx_strncasecmp(r->str, (u_char *) s, len) == 0;
}


void
ngx_http_airflow_auth_redis_log_error(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *fmt, ...)
{
    u_char   *p, msg[NGX_MAX_ERROR_STR];
    va_list   args;

    if (ngx_time() < rd->logged_at + NGX_HTTP_AIRFLOW_AUTH_REDIS_LOG_INTERVAL) {
        rd->held++;
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
    va_end(args);

    if (rd->held) {
        ngx_log_error(NGX_LOG_ERR, rd->log, err,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "redis %V%s: %*s (and %ui "
                      "more Redis errors in the last %d s, not logged)",
                      &rd->amcf->redis_name,
                      rd->subscriber ? " subscriber" : "",
                      p - msg, msg, rd->held,
                      NGX_HTTP_AIRFLOW_AUTH_REDIS_LOG_INTERVAL);

    } else {
        ngx_log_error(NGX_LOG_ERR, rd->log, err,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "redis %V%s: %*s",
                      &rd->amcf->redis_name,
                      rd->subscriber ? " subscriber" : "", p - msg, msg);
    }

    rd->logged_at = ngx_time();
    rd->held = 0;
}
