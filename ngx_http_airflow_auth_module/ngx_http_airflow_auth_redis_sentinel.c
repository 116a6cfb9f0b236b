/*
 * sentinel://: finding the master.  The sentinels are asked in order, over
 * the engine's own machinery, for the master's address (SENTINEL
 * get-master-addr-by-name; AUTH with the URL's credentials only after a
 * sentinel answers NOAUTH, as they are the master's).  The address given is
 * an IP literal, so no DNS is needed at run time; the master must say
 * "master" to ROLE.  Any failure before the connection is ready moves on to
 * the next sentinel with the callers' commands still queued.  Every new
 * connection asks again, which is how a failover is followed.
 */

#include "ngx_http_airflow_auth_redis_int.h"


/* After a failure before the connection was ready: what to try next. */
ngx_uint_t
ngx_http_airflow_auth_redis_next(ngx_http_airflow_auth_redis_t *rd)
{
    if (rd->amcf->redis.scheme != AA_REDIS_SENTINEL) {
        return 0;
    }

    /* a sentinel that failed, or whose master did: the next sentinel */
    rd->sentinel++;
    rd->asking = 1;

    return rd->sentinel < rd->amcf->redis.nhosts;
}


ngx_int_t
ngx_http_airflow_auth_redis_setup_ask(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_str_t  argv[3];

    ngx_str_set(&argv[0], "SENTINEL");
    ngx_str_set(&argv[1], "get-master-addr-by-name");
    argv[2].data = rd->amcf->redis.master.data;
    argv[2].len = rd->amcf->redis.master.len;

    return ngx_http_airflow_auth_redis_setup_add(rd,
                                        NGX_HTTP_AIRFLOW_AUTH_REDIS_ASK,
                                        3, argv);
}


/*
 * A sentinel's answer: the master's address (then on to the master), NOAUTH
 * (then AUTH and ask again, once), or anything else (the next sentinel).
 */
ngx_int_t
ngx_http_airflow_auth_redis_sentinel_reply(ngx_http_airflow_auth_redis_t *rd,
    aa_reply_t *reply)
{
    size_t           len;
    ngx_int_t        port;
    ngx_addr_t       addr;
    ngx_pool_t      *pool;
    aa_redis_url_t  *u;

    u = &rd->amcf->redis;

    if (reply->type == AA_REPLY_ERROR) {
        if (ngx_strncmp(reply->str, "NOAUTH", 6) == 0 && u->password.len
            && !rd->authed)
        {
            rd->authed = 1;

            if (ngx_http_airflow_auth_redis_setup_auth(rd) != NGX_OK
                || ngx_http_airflow_auth_redis_setup_ask(rd) != NGX_OK)
            {
                ngx_http_airflow_auth_redis_fail(rd, 0, "out of memory");
                return NGX_ERROR;
            }

            ngx_post_event(rd->peer.connection->write, &ngx_posted_events);
            return NGX_OK;
        }

        len = ngx_min(reply->len, NGX_HTTP_AIRFLOW_AUTH_REDIS_SHOW_LEN);
        ngx_http_airflow_auth_redis_fail(rd, 0, "SENTINEL refused: %*s",
                                         len, reply->str);
        return NGX_ERROR;
    }

    if (reply->type != AA_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != AA_REPLY_STRING
        || reply->element[1]->type != AA_REPLY_STRING)
    {
        ngx_http_airflow_auth_redis_fail(rd, 0, "does not know master "
                                         "\"%V\"", (ngx_str_t *) &u->master);
        return NGX_ERROR;
    }

    port = ngx_atoi(reply->element[1]->str, reply->element[1]->len);

    if (port < 1 || port > 65535) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "gave a bad port for "
                                         "master \"%V\"",
                                         (ngx_str_t *) &u->master);
        return NGX_ERROR;
    }

    /* an address literal, parsed without DNS */
    pool = ngx_create_pool(512, rd->log);
    if (pool == NULL) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "out of memory");
        return NGX_ERROR;
    }

    if (ngx_parse_addr(pool, &addr, reply->element[0]->str,
                       reply->element[0]->len)
        != NGX_OK
        || addr.socklen > sizeof(ngx_sockaddr_t))
    {
        ngx_destroy_pool(pool);
        len = ngx_min(reply->element[0]->len,
                      NGX_HTTP_AIRFLOW_AUTH_REDIS_SHOW_LEN);
        ngx_http_airflow_auth_redis_fail(rd, 0, "gave \"%*s\" for master "
                                         "\"%V\", not an IP address", len,
                                         reply->element[0]->str,
                                         (ngx_str_t *) &u->master);
        return NGX_ERROR;
    }

    ngx_memcpy(&rd->master, addr.sockaddr, addr.socklen);
    rd->master_len = addr.socklen;

    ngx_destroy_pool(pool);

    ngx_inet_set_port(&rd->master.sockaddr, (in_port_t) port);

    rd->master_name.data = rd->master_text;
    rd->master_name.len = ngx_sock_ntop(&rd->master.sockaddr, rd->master_len,
                                        rd->master_text,
                                        sizeof(rd->master_text), 1);

    /* the sentinel has served: on to the master, callers still queued */
    ngx_http_airflow_auth_redis_close(rd);
    rd->asking = 0;

    if (ngx_http_airflow_auth_redis_start(rd) != NGX_OK) {
        ngx_http_airflow_auth_redis_give_up(rd);
    }

    return NGX_DONE;
}
