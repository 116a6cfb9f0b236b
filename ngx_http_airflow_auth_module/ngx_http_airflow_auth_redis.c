/*
 * The worker's Redis connection, driven by nginx events.
 *
 * One connection per worker carries every command, pipelined: commands are
 * appended to an output buffer that the write handler flushes, and replies
 * come back in order, so the queue of ops in flight pairs each reply with
 * its caller.  Ops live in memory owned by this client, not by requests: a
 * request that ends early only clears its op's handler.
 *
 * Failures (refused connect, timeout, EOF, protocol error, AUTH refused)
 * close the connection, fail every op in flight, and hold new commands off
 * for a second, so a Redis outage costs each request one quick 503 and the
 * log one line per interval, and the next attempt after the pause finds
 * Redis again by itself.
 */

#include "ngx_http_airflow_auth_redis.h"
#include "ngx_http_airflow_auth_session.h"


#define NGX_HTTP_AIRFLOW_AUTH_REDIS_BACKOFF       1000
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_LOG_INTERVAL  10
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_OPS       65536
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_OUT       (8 * 1024 * 1024)
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_READ_BUF      16384


typedef enum {
    NGX_HTTP_AIRFLOW_AUTH_REDIS_CLOSED = 0,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_CONNECTING,
    NGX_HTTP_AIRFLOW_AUTH_REDIS_READY
} ngx_http_airflow_auth_redis_state_e;


struct ngx_http_airflow_auth_redis_op_s {
    ngx_queue_t                              queue;
    ngx_http_airflow_auth_redis_handler_pt   handler;
    void                                    *data;
    unsigned                                 setup:1;
};


struct ngx_http_airflow_auth_redis_s {
    ngx_http_airflow_auth_main_conf_t       *amcf;
    ngx_log_t                               *log;
    ngx_log_t                                quiet_log;

    ngx_peer_connection_t                    peer;
    ngx_http_airflow_auth_redis_state_e      state;
    aa_resp_reader_t                        *reader;

    ngx_queue_t                              sent;
    ngx_queue_t                              free;
    ngx_uint_t                               nops;

    u_char                                  *out;
    u_char                                  *out_pos;
    u_char                                  *out_last;
    u_char                                  *out_end;

    ngx_msec_t                               retry_at;
    time_t                                   logged_at;
    ngx_uint_t                               held;
    unsigned                                 failed:1;
};


static ngx_int_t ngx_http_airflow_auth_redis_connect(
    ngx_http_airflow_auth_redis_t *rd);
static ngx_int_t ngx_http_airflow_auth_redis_setup(
    ngx_http_airflow_auth_redis_t *rd);
static ngx_http_airflow_auth_redis_op_t *ngx_http_airflow_auth_redis_queue(
    ngx_http_airflow_auth_redis_t *rd, size_t argc, const ngx_str_t *argv,
    ngx_http_airflow_auth_redis_handler_pt handler, void *data);
static ngx_int_t ngx_http_airflow_auth_redis_reserve(
    ngx_http_airflow_auth_redis_t *rd, size_t len);
static void ngx_http_airflow_auth_redis_write_handler(ngx_event_t *wev);
static void ngx_http_airflow_auth_redis_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_airflow_auth_redis_dispatch(
    ngx_http_airflow_auth_redis_t *rd);
static ngx_int_t ngx_http_airflow_auth_redis_test_connect(ngx_connection_t *c);
static void ngx_http_airflow_auth_redis_fail(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *reason);
static void ngx_http_airflow_auth_redis_close(ngx_http_airflow_auth_redis_t *rd);


/*
 * airflow_auth_redis: parses the URL and resolves the address once, at
 * configuration time.
 */
char *
ngx_http_airflow_auth_redis_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf, ngx_str_t *url)
{
    u_char         *p;
    ngx_url_t       u;
    aa_alloc_t      a;
    aa_redis_url_t *ru;
    char            err[256];

    a.alloc = ngx_http_airflow_auth_palloc;
    a.data = cf->pool;
    ru = &amcf->redis;

    /* the URL may hold a password: it is never echoed into the log */
    if (aa_redis_url_parse(url->data, url->len, &a, ru, err, sizeof(err))
        != AA_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis\": %s", err);
        return NGX_CONF_ERROR;
    }

    if (ru->scheme == AA_REDIS_TLS || ru->scheme == AA_REDIS_SENTINEL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis\": %s URLs are not "
                           "supported by this version yet",
                           ru->scheme == AA_REDIS_TLS ? "rediss://"
                                                      : "sentinel://");
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    if (ru->scheme == AA_REDIS_UNIX) {
        u.url.len = sizeof("unix:") - 1 + ru->path.len;
        u.url.data = ngx_pnalloc(cf->pool, u.url.len);
        if (u.url.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(ngx_cpymem(u.url.data, "unix:", sizeof("unix:") - 1),
                   ru->path.data, ru->path.len);

    } else {
        u.url.len = ru->hosts[0].host.len + sizeof("[]:65535") - 1;
        u.url.data = ngx_pnalloc(cf->pool, u.url.len);
        if (u.url.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_strlchr(ru->hosts[0].host.data,
                        ru->hosts[0].host.data + ru->hosts[0].host.len, ':')
            ? ngx_sprintf(u.url.data, "[%*s]:%d", ru->hosts[0].host.len,
                          ru->hosts[0].host.data, ru->hosts[0].port)
            : ngx_sprintf(u.url.data, "%*s:%d", ru->hosts[0].host.len,
                          ru->hosts[0].host.data, ru->hosts[0].port);
        u.url.len = p - u.url.data;
    }

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis\": cannot use \"%V\": %s",
                           &u.url, u.err ? u.err : "no address");
        return NGX_CONF_ERROR;
    }

    amcf->redis_url = *url;
    amcf->redis_addr = &u.addrs[0];
    amcf->redis_name = u.url;

    return NGX_CONF_OK;
}


ngx_http_airflow_auth_redis_t *
ngx_http_airflow_auth_redis_create(ngx_cycle_t *cycle,
    ngx_http_airflow_auth_main_conf_t *amcf)
{
    ngx_http_airflow_auth_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_airflow_auth_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->amcf = amcf;
    rd->log = cycle->log;

    /* nginx's own connect() error lines would come once per attempt */
    rd->quiet_log = *cycle->log;
    rd->quiet_log.log_level = NGX_LOG_CRIT;

    ngx_queue_init(&rd->sent);
    ngx_queue_init(&rd->free);

    return rd;
}


void
ngx_http_airflow_auth_redis_destroy(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_queue_t                       *q;
    ngx_http_airflow_auth_redis_op_t  *op;

    ngx_http_airflow_auth_redis_close(rd);

    while (!ngx_queue_empty(&rd->sent)) {
        q = ngx_queue_head(&rd->sent);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_http_airflow_auth_redis_op_t, queue));
    }

    while (!ngx_queue_empty(&rd->free)) {
        q = ngx_queue_head(&rd->free);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_airflow_auth_redis_op_t, queue);
        ngx_free(op);
    }

    if (rd->out) {
        ngx_free(rd->out);
        rd->out = NULL;
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

        if (ngx_http_airflow_auth_redis_connect(rd) != NGX_OK) {
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
        /* one send for every command queued in this event loop turn */
        ngx_post_event(rd->peer.connection->write, &ngx_posted_events);
    }

    return op;
}


void
ngx_http_airflow_auth_redis_cancel(ngx_http_airflow_auth_redis_op_t *op)
{
    op->handler = NULL;
    op->data = NULL;
}


static ngx_int_t
ngx_http_airflow_auth_redis_connect(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_int_t          rc;
    ngx_err_t          err;
    ngx_connection_t  *c;

    ngx_memzero(&rd->peer, sizeof(ngx_peer_connection_t));

    rd->peer.sockaddr = rd->amcf->redis_addr->sockaddr;
    rd->peer.socklen = rd->amcf->redis_addr->socklen;
    rd->peer.name = &rd->amcf->redis_name;
    rd->peer.get = ngx_event_get_peer;
    rd->peer.log = &rd->quiet_log;
    rd->peer.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&rd->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        err = ngx_socket_errno;
        rd->peer.connection = NULL;
        ngx_http_airflow_auth_redis_fail(rd, err, "connect() failed");
        return NGX_ERROR;
    }

    c = rd->peer.connection;
    c->data = rd;
    c->log = rd->log;
    c->read->log = rd->log;
    c->write->log = rd->log;
    c->read->handler = ngx_http_airflow_auth_redis_read_handler;
    c->write->handler = ngx_http_airflow_auth_redis_write_handler;

    rd->reader = aa_resp_reader_new();
    if (rd->reader == NULL) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "out of memory");
        return NGX_ERROR;
    }

    rd->state = NGX_HTTP_AIRFLOW_AUTH_REDIS_CONNECTING;

    if (ngx_http_airflow_auth_redis_setup(rd) != NGX_OK) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "out of memory");
        return NGX_ERROR;
    }

    if (rc == NGX_AGAIN) {
        ngx_add_timer(c->write, rd->amcf->redis_timeout);
        return NGX_OK;
    }

    /* connected at once (unix sockets usually are) */
    ngx_post_event(c->write, &ngx_posted_events);

    return NGX_OK;
}


/* AUTH and SELECT go first on a new connection, before any caller's */
static ngx_int_t
ngx_http_airflow_auth_redis_setup(ngx_http_airflow_auth_redis_t *rd)
{
    size_t                             n;
    u_char                             db[NGX_INT_T_LEN];
    ngx_str_t                          argv[3];
    aa_redis_url_t                    *u;
    ngx_http_airflow_auth_redis_op_t  *op;

    u = &rd->amcf->redis;

    if (u->password.len) {
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

        op = ngx_http_airflow_auth_redis_queue(rd, n, argv, NULL, NULL);
        if (op == NULL) {
            return NGX_ERROR;
        }

        op->setup = 1;
    }

    if (u->db) {
        ngx_str_set(&argv[0], "SELECT");
        argv[1].data = db;
        argv[1].len = ngx_sprintf(db, "%d", u->db) - db;

        op = ngx_http_airflow_auth_redis_queue(rd, 2, argv, NULL, NULL);
        if (op == NULL) {
            return NGX_ERROR;
        }

        op->setup = 1;
    }

    return NGX_OK;
}


static ngx_http_airflow_auth_redis_op_t *
ngx_http_airflow_auth_redis_queue(ngx_http_airflow_auth_redis_t *rd,
    size_t argc, const ngx_str_t *argv,
    ngx_http_airflow_auth_redis_handler_pt handler, void *data)
{
    size_t                             len;
    ngx_queue_t                       *q;
    ngx_http_airflow_auth_redis_op_t  *op;

    /* ngx_str_t and aa_str_t share one layout */
    len = aa_resp_command_len(argc, (const aa_str_t *) argv);

    if (ngx_http_airflow_auth_redis_reserve(rd, len) != NGX_OK) {
        return NULL;
    }

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

    rd->out_last = aa_resp_command_write(rd->out_last, argc,
                                         (const aa_str_t *) argv);

    op->handler = handler;
    op->data = data;
    op->setup = 0;

    ngx_queue_insert_tail(&rd->sent, &op->queue);
    rd->nops++;

    return op;
}


static ngx_int_t
ngx_http_airflow_auth_redis_reserve(ngx_http_airflow_auth_redis_t *rd,
    size_t len)
{
    size_t   used, size;
    u_char  *p;

    if ((size_t) (rd->out_end - rd->out_last) >= len) {
        return NGX_OK;
    }

    used = rd->out_last - rd->out_pos;

    if (used + len > NGX_HTTP_AIRFLOW_AUTH_REDIS_MAX_OUT) {
        ngx_http_airflow_auth_redis_log_error(rd, 0,
                                "cannot queue a %uz-byte command behind %uz "
                                "bytes not sent yet", len, used);
        return NGX_ERROR;
    }

    /* move what is left to the front, or grow */
    size = rd->out_end - rd->out;

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
        p = rd->out;
    }

    if (used) {
        ngx_memmove(p, rd->out_pos, used);
    }

    if (p != rd->out) {
        if (rd->out) {
            ngx_free(rd->out);
        }

        rd->out = p;
        rd->out_end = p + size;
    }

    rd->out_pos = p;
    rd->out_last = p + used;

    return NGX_OK;
}


static void
ngx_http_airflow_auth_redis_write_handler(ngx_event_t *wev)
{
    ssize_t                         n;
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

        rd->state = NGX_HTTP_AIRFLOW_AUTH_REDIS_READY;

        if (rd->failed) {
            rd->failed = 0;
            ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                          NGX_HTTP_AIRFLOW_AUTH_LOG "redis %V: connected "
                          "again", &rd->amcf->redis_name);
        }
    }

    while (rd->out_pos < rd->out_last) {
        n = c->send(c, rd->out_pos, rd->out_last - rd->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_http_airflow_auth_redis_fail(rd, 0, "send() failed");
            return;
        }

        rd->out_pos += n;
    }

    if (rd->out_pos == rd->out_last) {
        rd->out_pos = rd->out;
        rd->out_last = rd->out;

        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

    } else if (!wev->timer_set) {
        ngx_add_timer(wev, rd->amcf->redis_timeout);
    }

    if (!ngx_queue_empty(&rd->sent) && !c->read->timer_set) {
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


static void
ngx_http_airflow_auth_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                         n;
    ngx_connection_t               *c;
    ngx_http_airflow_auth_redis_t  *rd;
    u_char                          buf[NGX_HTTP_AIRFLOW_AUTH_REDIS_READ_BUF];

    c = rev->data;
    rd = c->data;

    if (rev->timedout) {
        ngx_http_airflow_auth_redis_fail(rd, NGX_ETIMEDOUT,
                                         "no reply in time");
        return;
    }

    if (rd->state != NGX_HTTP_AIRFLOW_AUTH_REDIS_READY) {
        /* the connect is still under way: the write event decides */
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            if (ngx_queue_empty(&rd->sent)) {
                /* an idle connection closed by Redis: reconnect on demand */
                ngx_http_airflow_auth_redis_close(rd);
                return;
            }

            ngx_http_airflow_auth_redis_fail(rd, 0,
                                             "connection closed by Redis");
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_airflow_auth_redis_fail(rd, 0, "recv() failed");
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

    if (!ngx_queue_empty(&rd->sent)) {
        ngx_add_timer(rev, rd->amcf->redis_timeout);
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "cannot add read event");
    }
}


/* Hands each complete reply to the op at the head of the queue. */
static ngx_int_t
ngx_http_airflow_auth_redis_dispatch(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_queue_t                             *q;
    aa_reply_t                              *reply;
    ngx_http_airflow_auth_redis_op_t        *op;
    ngx_http_airflow_auth_redis_handler_pt   handler;

    for ( ;; ) {
        if (aa_resp_reader_get(rd->reader, &reply) != AA_OK) {
            ngx_http_airflow_auth_redis_fail(rd, 0, "protocol error");
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_OK;
        }

        if (ngx_queue_empty(&rd->sent)) {
            aa_reply_free(reply);
            ngx_http_airflow_auth_redis_fail(rd, 0, "unexpected reply");
            return NGX_ERROR;
        }

        q = ngx_queue_head(&rd->sent);
        ngx_queue_remove(q);
        rd->nops--;

        op = ngx_queue_data(q, ngx_http_airflow_auth_redis_op_t, queue);

        if (op->setup && reply->type == AA_REPLY_ERROR) {
            ngx_queue_insert_head(&rd->free, q);
            ngx_http_airflow_auth_redis_log_error(rd, 0,
                                    "AUTH or SELECT refused: %s", reply->str);
            aa_reply_free(reply);
            ngx_http_airflow_auth_redis_fail(rd, 0, NULL);
            return NGX_ERROR;
        }

        handler = op->handler;
        ngx_queue_insert_head(&rd->free, q);

        if (handler) {
            handler(op->data, reply);
        }

        aa_reply_free(reply);
    }
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
 * Closes the connection and fails every op in flight.  Their handlers run
 * after the client is consistent again, and a command issued from one of
 * them is refused until the back-off ends.
 */
static void
ngx_http_airflow_auth_redis_fail(ngx_http_airflow_auth_redis_t *rd,
    ngx_err_t err, const char *reason)
{
    ngx_queue_t                             failed, *q;
    ngx_http_airflow_auth_redis_op_t        *op;
    ngx_http_airflow_auth_redis_handler_pt   handler;

    if (reason) {
        ngx_http_airflow_auth_redis_log_error(rd, err, "%s", reason);
    }

    ngx_http_airflow_auth_redis_close(rd);

    rd->retry_at = ngx_current_msec + NGX_HTTP_AIRFLOW_AUTH_REDIS_BACKOFF;
    rd->failed = 1;

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


static void
ngx_http_airflow_auth_redis_close(ngx_http_airflow_auth_redis_t *rd)
{
    if (rd->peer.connection) {
        ngx_close_connection(rd->peer.connection);
        rd->peer.connection = NULL;
    }

    if (rd->reader) {
        aa_resp_reader_free(rd->reader);
        rd->reader = NULL;
    }

    rd->out_pos = rd->out;
    rd->out_last = rd->out;
    rd->state = NGX_HTTP_AIRFLOW_AUTH_REDIS_CLOSED;
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
                      NGX_HTTP_AIRFLOW_AUTH_LOG "redis %V: %*s (and %ui "
                      "more Redis errors in the last %d s, not logged)",
                      &rd->amcf->redis_name, p - msg, msg, rd->held,
                      NGX_HTTP_AIRFLOW_AUTH_REDIS_LOG_INTERVAL);

    } else {
        ngx_log_error(NGX_LOG_ERR, rd->log, err,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "redis %V: %*s",
                      &rd->amcf->redis_name, p - msg, msg);
    }

    rd->logged_at = ngx_time();
    rd->held = 0;
}
