/*
 * Sessions from the nginx side: finding the caller's session (cookie, MAC,
 * Redis GET, unseal, expiry), keeping it alive, and ending it.
 *
 * The cookie's MAC is checked before anything else, so a forged cookie
 * costs an HMAC and never reaches Redis.  While Redis answers, the request
 * sleeps with its phase handler unchanged; the reply handler runs the
 * phases again and the access handler picks up the result from the ctx.
 */

#include "ngx_http_airflow_auth_session.h"
#include "ngx_http_airflow_auth_cache.h"
#include "ngx_http_airflow_auth_headers.h"
#include "ngx_http_airflow_auth_redis.h"


static void ngx_http_airflow_auth_session_cleanup(void *data);
static void ngx_http_airflow_auth_session_got(void *data, aa_reply_t *reply);
static ngx_http_airflow_auth_lookup_e ngx_http_airflow_auth_session_open(
    ngx_http_request_t *r, ngx_http_airflow_auth_ctx_t *ctx, aa_reply_t *reply);
static void ngx_http_airflow_auth_session_refresh(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);
static void ngx_http_airflow_auth_session_deleted(void *data,
    aa_reply_t *reply);
static ngx_int_t ngx_http_airflow_auth_session_wait(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx, ngx_http_airflow_auth_redis_op_t *op);
static void ngx_http_airflow_auth_session_wake(ngx_http_request_t *r);
static ngx_int_t ngx_http_airflow_auth_session_vars(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx);


void *
ngx_http_airflow_auth_palloc(void *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


void
ngx_http_airflow_auth_cookie_name(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_http_airflow_auth_srv_conf_t  *ascf;

    ascf = ngx_http_get_module_srv_conf(r, ngx_http_airflow_auth_module);

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        /* the "__Host-" prefix is stored in front of the plain name */
        name->data = ascf->cookie_name.data - (sizeof("__Host-") - 1);
        name->len = ascf->cookie_name.len + sizeof("__Host-") - 1;
        return;
    }
#endif

    *name = ascf->cookie_name;
}


ngx_int_t
ngx_http_airflow_auth_session_lookup(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx, ngx_uint_t use_cache)
{
    ngx_str_t                           name, value, argv[2];
    aa_alloc_t                          a;
    ngx_http_airflow_auth_redis_op_t   *op;
    ngx_http_airflow_auth_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airflow_auth_module);

    ngx_http_airflow_auth_cookie_name(r, &name);

    if (ngx_http_airflow_auth_get_cookie(r, &name, &value) != NGX_OK) {
        ctx->lookup = NGX_HTTP_AIRFLOW_AUTH_LOOKUP_ABSENT;
        return NGX_OK;
    }

    ctx->has_cookie = 1;

    if (aa_cookie_parse(amcf->keyring, value.data, value.len, ctx->id)
        != AA_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "session cookie refused: "
                      "bad MAC or shape");
        ctx->lookup = NGX_HTTP_AIRFLOW_AUTH_LOOKUP_ABSENT;
        return NGX_OK;
    }

    if (aa_redis_session_hash(ctx->id, AA_SESSION_ID_LEN, ctx->hash)
        != AA_OK)
    {
        return NGX_ERROR;
    }

    if (use_cache && ngx_http_airflow_auth_cache_get(r, ctx) == NGX_OK) {
        ctx->lookup = NGX_HTTP_AIRFLOW_AUTH_LOOKUP_FOUND;
        return NGX_OK;
    }

    a.alloc = ngx_http_airflow_auth_palloc;
    a.data = r->pool;

    if (aa_redis_key_session((aa_str_t *) &amcf->prefix, ctx->hash, &a,
                             (aa_str_t *) &ctx->key)
        != AA_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&argv[0], "GET");
    argv[1] = ctx->key;

    op = ngx_http_airflow_auth_redis_command(amcf->redis_client, 2, argv,
                                      ngx_http_airflow_auth_session_got, r);
    if (op == NULL) {
        ctx->lookup = NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE;
        return NGX_OK;
    }

    return ngx_http_airflow_auth_session_wait(r, ctx, op);
}


static ngx_int_t
ngx_http_airflow_auth_session_wait(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx, ngx_http_airflow_auth_redis_op_t *op)
{
    ngx_pool_cleanup_t  *cln;

    ctx->op = op;
    ctx->lookup = NGX_HTTP_AIRFLOW_AUTH_LOOKUP_PENDING;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_airflow_auth_redis_cancel(op);
        ctx->op = NULL;
        return NGX_ERROR;
    }

    cln->handler = ngx_http_airflow_auth_session_cleanup;
    cln->data = ctx;

    /* notice a client that leaves while Redis is asked */
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


static void
ngx_http_airflow_auth_session_cleanup(void *data)
{
    ngx_http_airflow_auth_ctx_t  *ctx = data;

    if (ctx->op) {
        ngx_http_airflow_auth_redis_cancel(ctx->op);
        ctx->op = NULL;
    }
}


static void
ngx_http_airflow_auth_session_got(void *data, aa_reply_t *reply)
{
    ngx_http_request_t           *r = data;
    ngx_http_airflow_auth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airflow_auth_module);

    ctx->op = NULL;
    ctx->lookup = ngx_http_airflow_auth_session_open(r, ctx, reply);

    if (ctx->lookup == NGX_HTTP_AIRFLOW_AUTH_LOOKUP_FOUND) {
        ngx_http_airflow_auth_session_refresh(r, ctx);
        ngx_http_airflow_auth_cache_put(r, ctx);
    }

    ngx_http_airflow_auth_session_wake(r);
}


static ngx_http_airflow_auth_lookup_e
ngx_http_airflow_auth_session_open(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx, aa_reply_t *reply)
{
    size_t                              len;
    u_char                             *json;
    aa_alloc_t                          a;
    ngx_http_airflow_auth_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airflow_auth_module);

    if (reply == NULL) {
        return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE;
    }

    if (reply->type == AA_REPLY_NIL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "session not found "
                      "(expired or revoked)");
        return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_ABSENT;
    }

    if (reply->type != AA_REPLY_STRING) {
        ngx_http_airflow_auth_redis_log_error(amcf->redis_client, 0,
                                   "GET answered with reply type %d: %s",
                                   reply->type,
                                   reply->type == AA_REPLY_ERROR
                                   ? (char *) reply->str : "");
        return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE;
    }

    json = ngx_pnalloc(r->pool, reply->len);
    if (json == NULL) {
        return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE;
    }

    if (aa_unseal(amcf->keyring, ctx->hash, AA_REDIS_HASH_LEN,
                  reply->str, reply->len, json, &len)
        != AA_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "session record refused: "
                      "cannot be opened with the configured keys");
        return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_ABSENT;
    }

    a.alloc = ngx_http_airflow_auth_palloc;
    a.data = r->pool;

    if (aa_session_decode(json, len, &a, &ctx->session) != AA_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "session record refused: "
                      "malformed");
        return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_ABSENT;
    }

    if (aa_session_check_time(&ctx->session, ngx_time()) != AA_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      NGX_HTTP_AIRFLOW_AUTH_LOG "session of \"%*s\" expired",
                      ctx->session.user.len, ctx->session.user.data);
        return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_ABSENT;
    }

    if (ngx_http_airflow_auth_session_vars(r, ctx) != NGX_OK) {
        return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE;
    }

    return NGX_HTTP_AIRFLOW_AUTH_LOOKUP_FOUND;
}


/* The identity as header-safe strings, for variables and headers. */
static ngx_int_t
ngx_http_airflow_auth_session_vars(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    ngx_uint_t     i;
    aa_alloc_t     a;
    aa_str_t      *v;
    aa_session_t  *s;

    a.alloc = ngx_http_airflow_auth_palloc;
    a.data = r->pool;

    s = &ctx->session;
    v = (aa_str_t *) ctx->vars;

    v[NGX_HTTP_AIRFLOW_AUTH_VAR_USER] = s->user;
    v[NGX_HTTP_AIRFLOW_AUTH_VAR_EMAIL] = s->email;
    v[NGX_HTTP_AIRFLOW_AUTH_VAR_NAME] = s->name;
    v[NGX_HTTP_AIRFLOW_AUTH_VAR_IDP] = s->idp;

    for (i = 0; i < NGX_HTTP_AIRFLOW_AUTH_NVARS; i++) {
        if (v[i].len) {
            v[i].len = aa_header_clean(v[i].data, v[i].data, v[i].len);
        }
    }

    if (aa_strlist_join(&s->roles, &a, &v[NGX_HTTP_AIRFLOW_AUTH_VAR_ROLES])
        != AA_OK
        || aa_strlist_join(&s->groups, &a,
                           &v[NGX_HTTP_AIRFLOW_AUTH_VAR_GROUPS])
           != AA_OK)
    {
        return NGX_ERROR;
    }

    ctx->identity = 1;

    return NGX_OK;
}


/*
 * Pushes the idle expiry forward, at most once per tenth of the idle
 * timeout.  SET ... XX never brings back a record deleted meanwhile.
 */
static void
ngx_http_airflow_auth_session_refresh(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    u_char                             *sealed, ttl[NGX_INT64_LEN];
    time_t                              now;
    ngx_str_t                           argv[6];
    aa_str_t                            json;
    aa_alloc_t                          a;
    ngx_http_airflow_auth_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airflow_auth_module);
    now = ngx_time();

    if (!aa_session_needs_refresh(&ctx->session, now, amcf->idle_timeout)) {
        return;
    }

    aa_session_touch(&ctx->session, now, amcf->idle_timeout);

    a.alloc = ngx_http_airflow_auth_palloc;
    a.data = r->pool;

    if (aa_session_encode(&ctx->session, &a, &json) != AA_OK) {
        return;
    }

    sealed = ngx_pnalloc(r->pool, json.len + AA_SEAL_OVERHEAD);
    if (sealed == NULL) {
        return;
    }

    if (aa_seal(amcf->keyring, ctx->hash, AA_REDIS_HASH_LEN, json.data,
                json.len, sealed)
        != AA_OK)
    {
        return;
    }

    ngx_str_set(&argv[0], "SET");
    argv[1] = ctx->key;
    argv[2].data = sealed;
    argv[2].len = json.len + AA_SEAL_OVERHEAD;
    ngx_str_set(&argv[3], "XX");
    ngx_str_set(&argv[4], "EX");
    argv[5].data = ttl;
    argv[5].len = ngx_sprintf(ttl, "%L",
                              (int64_t) aa_session_ttl(&ctx->session, now))
                  - ttl;

    /* the reply does not matter: the next refresh tries again */
    (void) ngx_http_airflow_auth_redis_command(amcf->redis_client, 6, argv,
                                               NULL, NULL);
}


ngx_int_t
ngx_http_airflow_auth_session_destroy(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    ngx_str_t                           argv[3], user_key, channel;
    aa_alloc_t                          a;
    ngx_http_airflow_auth_redis_op_t   *op;
    ngx_http_airflow_auth_main_conf_t  *amcf;

    if (ctx->key.len == 0) {
        return NGX_OK;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airflow_auth_module);

    ngx_http_airflow_auth_cache_delete(amcf, ctx->hash, AA_REDIS_HASH_LEN);

    a.alloc = ngx_http_airflow_auth_palloc;
    a.data = r->pool;

    if (aa_redis_key_channel((aa_str_t *) &amcf->prefix, &a,
                             (aa_str_t *) &channel)
        != AA_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&argv[0], "DEL");
    argv[1] = ctx->key;

    op = ngx_http_airflow_auth_redis_command(amcf->redis_client, 2, argv,
                                   ngx_http_airflow_auth_session_deleted, r);
    if (op == NULL) {
        ctx->lookup = NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE;
        return NGX_OK;
    }

    /* index and announcement ride on the same pipeline, after the DEL */

    if (ctx->session.user.len) {
        if (aa_redis_key_user((aa_str_t *) &amcf->prefix,
                              &ctx->session.user, &a, (aa_str_t *) &user_key)
            != AA_OK)
        {
            ngx_http_airflow_auth_redis_cancel(op);
            return NGX_ERROR;
        }

        ngx_str_set(&argv[0], "SREM");
        argv[1] = user_key;
        argv[2].data = ctx->hash;
        argv[2].len = AA_REDIS_HASH_LEN;

        (void) ngx_http_airflow_auth_redis_command(amcf->redis_client, 3,
                                                   argv, NULL, NULL);
    }

    ngx_str_set(&argv[0], "PUBLISH");
    argv[1] = channel;
    argv[2].data = ctx->hash;
    argv[2].len = AA_REDIS_HASH_LEN;

    (void) ngx_http_airflow_auth_redis_command(amcf->redis_client, 3, argv,
                                               NULL, NULL);

    return ngx_http_airflow_auth_session_wait(r, ctx, op);
}


static void
ngx_http_airflow_auth_session_deleted(void *data, aa_reply_t *reply)
{
    ngx_http_request_t           *r = data;
    ngx_http_airflow_auth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airflow_auth_module);

    ctx->op = NULL;

    if (reply != NULL && reply->type == AA_REPLY_INTEGER) {
        ctx->lookup = NGX_HTTP_AIRFLOW_AUTH_LOOKUP_ABSENT;
        ctx->key.len = 0;

    } else {
        ctx->lookup = NGX_HTTP_AIRFLOW_AUTH_LOOKUP_UNAVAILABLE;
    }

    ngx_http_airflow_auth_session_wake(r);
}


static void
ngx_http_airflow_auth_session_wake(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}
