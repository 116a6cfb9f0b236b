/*
 * The pub/sub subscriber, made only when asked for: a second client on the
 * same URL whose setup ends with SUBSCRIBE.  It reconnects from a timer
 * rather than on demand, sends PING while idle to notice a peer that
 * vanished, and calls sync() whenever the subscription is made, since
 * messages published meanwhile are lost.
 */

#include "ngx_http_airflow_auth_redis_int.h"
#include "ngx_http_airflow_auth_session.h"


static void ngx_http_airflow_auth_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_http_airflow_auth_redis_ping_handler(ngx_event_t *ev);


ngx_int_t
ngx_http_airflow_auth_redis_subscribe(ngx_http_airflow_auth_redis_t *rd,
    ngx_str_t *channel, ngx_http_airflow_auth_redis_message_pt message,
    ngx_http_airflow_auth_redis_sync_pt sync, void *data)
{
    aa_str_t                        key;
    aa_alloc_t                      a;
    ngx_http_airflow_auth_redis_t  *sub;

    if (rd->subscriber || rd->sub != NULL || message == NULL || sync == NULL)
    {
        ngx_log_error(NGX_LOG_ALERT, rd->log, 0,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "redis: one subscription "
                      "per client, with both handlers");
        return NGX_ERROR;
    }

    sub = ngx_http_airflow_auth_redis_new(rd->pool, rd->log, rd->amcf);
    if (sub == NULL) {
        return NGX_ERROR;
    }

    if (channel != NULL) {
        sub->channel.data = ngx_pstrdup(rd->pool, channel);
        if (sub->channel.data == NULL) {
            return NGX_ERROR;
        }

        sub->channel.len = channel->len;

    } else {
        a.alloc = ngx_http_airflow_auth_palloc;
        a.data = rd->pool;

        if (aa_redis_key_channel((aa_str_t *) &rd->amcf->prefix, &a, &key)
            != AA_OK)
        {
            return NGX_ERROR;
        }

        sub->channel.data = key.data;
        sub->channel.len = key.len;
    }

    sub->subscriber = 1;
    sub->message = message;
    sub->sync = sync;
    sub->sync_data = data;

    sub->reconnect.handler = ngx_http_airflow_auth_redis_reconnect_handler;
    sub->reconnect.data = sub;
    sub->reconnect.log = rd->log;
    sub->reconnect.cancelable = 1;

    sub->ping.handler = ngx_http_airflow_auth_redis_ping_handler;
    sub->ping.data = sub;
    sub->ping.log = rd->log;
    sub->ping.cancelable = 1;

    rd->sub = sub;

    /* connect from the event loop, whatever phase the caller is in */
    ngx_add_timer(&sub->reconnect, 1);

    return NGX_OK;
}


ngx_uint_t
ngx_http_airflow_auth_redis_subscribed(ngx_http_airflow_auth_redis_t *rd)
{
    return rd->sub != NULL
           && rd->sub->state == NGX_HTTP_AIRFLOW_AUTH_REDIS_READY;
}


/* What a subscribed connection receives: messages and PING answers. */
ngx_int_t
ngx_http_airflow_auth_redis_push(ngx_http_airflow_auth_redis_t *rd,
    aa_reply_t *reply)
{
    ngx_str_t    payload;
    aa_reply_t  *chan;

    if (reply->type == AA_REPLY_ARRAY && reply->elements == 3
        && ngx_http_airflow_auth_redis_is(reply->element[0], "message"))
    {
        chan = reply->element[1];

        if (chan->type != AA_REPLY_STRING
            || chan->len != rd->channel.len
            || ngx_memcmp(chan->str, rd->channel.data, chan->len) != 0
            || reply->element[2]->type != AA_REPLY_STRING)
        {
            ngx_http_airflow_auth_redis_fail(rd, 0, "message from another "
                                             "channel");
            return NGX_ERROR;
        }

        payload.data = reply->element[2]->str;
        payload.len = reply->element[2]->len;

        rd->message(rd->sync_data, &payload);

        return NGX_OK;
    }

    if (reply->type == AA_REPLY_ARRAY && reply->elements >= 1
        && ngx_http_airflow_auth_redis_is(reply->element[0], "pong")
        && rd->pinging)
    {
        rd->pinging = 0;
        return NGX_OK;
    }

    ngx_http_airflow_auth_redis_fail(rd, 0, "unexpected message");

    return NGX_ERROR;
}


static void
ngx_http_airflow_auth_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_http_airflow_auth_redis_t  *rd;

    rd = ev->data;

    if (ngx_exiting || rd->state != NGX_HTTP_AIRFLOW_AUTH_REDIS_CLOSED) {
        return;
    }

    if (ngx_http_airflow_auth_redis_begin(rd) != NGX_OK) {
        ngx_http_airflow_auth_redis_give_up(rd);
    }
}


/* A subscribed connection is silent: PING tells a dead one from a quiet. */
static void
ngx_http_airflow_auth_redis_ping_handler(ngx_event_t *ev)
{
    ngx_str_t                       argv[1];
    ngx_http_airflow_auth_redis_t  *rd;

    rd = ev->data;

    if (rd->state != NGX_HTTP_AIRFLOW_AUTH_REDIS_READY || ngx_exiting) {
        return;
    }

    if (!rd->pinging) {
        ngx_str_set(&argv[0], "PING");

        if (ngx_http_airflow_auth_redis_append(rd, &rd->out, 1, argv)
            != NGX_OK)
        {
            ngx_http_airflow_auth_redis_fail(rd, 0, "out of memory");
            return;
        }

        rd->pinging = 1;
        ngx_post_event(rd->peer.connection->write, &ngx_posted_events);
    }

    ngx_add_timer(ev, NGX_HTTP_AIRFLOW_AUTH_REDIS_PING);
}
