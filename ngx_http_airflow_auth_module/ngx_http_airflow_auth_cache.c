/*
 * The per-instance session cache.
 *
 * One shared-memory zone per nginx instance maps a session's hash to what
 * an authenticated request needs: the six identity values and when the
 * entry stops being usable.  An entry is usable until the session would be
 * due for its idle refresh (last_seen + a tenth of the idle timeout) or
 * would expire, whichever comes first; past that the request goes to Redis,
 * which refreshes the record and the entry.  So a busy session costs one
 * Redis GET per tenth of the idle timeout, whatever its request rate.
 *
 * Revocations reach every instance as Redis pub/sub messages and turn the
 * entry into a tombstone: a GET that was already on its way when the
 * session was deleted may answer after the message, and must not put the
 * session back.  A tombstone outlives any GET in flight (the Redis timeout,
 * plus a margin) and then goes.
 *
 * While a worker cannot hear revocations (its subscription is down) it
 * does not read the cache, and when the subscription comes back the whole
 * cache is dropped at once by moving to a new generation.
 */

#include "ngx_http_airflow_auth_cache.h"
#include "ngx_http_airflow_auth_redis.h"
#include "ngx_http_airflow_auth_session.h"


typedef struct {
    ngx_str_node_t                     sn;       /* str: the hex hash */
    ngx_queue_t                        queue;    /* least recently used */
    ngx_uint_t                         generation;
    time_t                             valid_until;
    ngx_uint_t                         revoked;   /* a tombstone */
    u_short                            len[NGX_HTTP_AIRFLOW_AUTH_NVARS];
    u_char                             data[1];  /* hash, then the values */
} ngx_http_airflow_auth_cache_node_t;


typedef struct {
    ngx_rbtree_t                       rbtree;
    ngx_rbtree_node_t                  sentinel;
    ngx_queue_t                        queue;
    ngx_uint_t                         generation;
} ngx_http_airflow_auth_cache_sh_t;


struct ngx_http_airflow_auth_cache_s {
    ngx_http_airflow_auth_cache_sh_t  *sh;
    ngx_slab_pool_t                   *shpool;
};


static ngx_int_t ngx_http_airflow_auth_cache_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static ngx_http_airflow_auth_cache_node_t *ngx_http_airflow_auth_cache_find(
    ngx_http_airflow_auth_cache_t *cache, u_char *hash, size_t len);
static void ngx_http_airflow_auth_cache_remove(
    ngx_http_airflow_auth_cache_t *cache,
    ngx_http_airflow_auth_cache_node_t *cn);
static void *ngx_http_airflow_auth_cache_alloc(
    ngx_http_airflow_auth_cache_t *cache, size_t size);
static ngx_uint_t ngx_http_airflow_auth_cache_usable(
    ngx_http_airflow_auth_main_conf_t *amcf);
static void ngx_http_airflow_auth_cache_revoked(void *data,
    ngx_str_t *payload);
static void ngx_http_airflow_auth_cache_resync(void *data);


/*
 * Starts hearing revocations; called once per worker.  Until the
 * subscription is in place, and whenever it is down, the cache is not used.
 */
ngx_int_t
ngx_http_airflow_auth_cache_init_process(
    ngx_http_airflow_auth_main_conf_t *amcf)
{
    if (amcf->cache == NULL) {
        return NGX_OK;
    }

    return ngx_http_airflow_auth_redis_subscribe(amcf->redis_client, NULL,
                                        ngx_http_airflow_auth_cache_revoked,
                                        ngx_http_airflow_auth_cache_resync,
                                        amcf);
}


static ngx_uint_t
ngx_http_airflow_auth_cache_usable(ngx_http_airflow_auth_main_conf_t *amcf)
{
    return amcf->cache != NULL
           && amcf->redis_client != NULL
           && ngx_http_airflow_auth_redis_subscribed(amcf->redis_client);
}


static void
ngx_http_airflow_auth_cache_revoked(void *data, ngx_str_t *payload)
{
    ngx_http_airflow_auth_main_conf_t  *amcf = data;

    ngx_http_airflow_auth_cache_delete(amcf, payload->data, payload->len);
}


/* revocations published while the subscription was down are lost */
static void
ngx_http_airflow_auth_cache_resync(void *data)
{
    ngx_http_airflow_auth_main_conf_t  *amcf = data;

    ngx_http_airflow_auth_cache_flush(amcf);
}


char *
ngx_http_airflow_auth_cache_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf)
{
    ngx_str_t                       name = ngx_string("airflow_auth_sessions");
    ngx_shm_zone_t                 *shm_zone;
    ngx_http_airflow_auth_cache_t  *cache;

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_airflow_auth_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, amcf->cache_size,
                                     &ngx_http_airflow_auth_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_airflow_auth_cache_init_zone;
    shm_zone->data = cache;

    amcf->cache = cache;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_airflow_auth_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_airflow_auth_cache_t  *ocache = data;

    size_t                          len;
    ngx_http_airflow_auth_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        /* a reload keeps the entries: they do not depend on the config */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_airflow_auth_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&cache->sh->queue);
    cache->sh->generation = 1;

    len = sizeof(" in airflow_auth session cache \"\"")
          + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx,
                " in airflow_auth session cache \"%V\"%Z",
                &shm_zone->shm.name);

    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_airflow_auth_cache_get(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    u_char                              *p, *copy;
    size_t                               total;
    ngx_uint_t                           i;
    ngx_http_airflow_auth_cache_t       *cache;
    ngx_http_airflow_auth_main_conf_t   *amcf;
    ngx_http_airflow_auth_cache_node_t  *cn;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airflow_auth_module);
    cache = amcf->cache;

    if (!ngx_http_airflow_auth_cache_usable(amcf)) {
        return NGX_DECLINED;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_airflow_auth_cache_find(cache, ctx->hash,
                                          AA_REDIS_HASH_LEN);

    if (cn == NULL || cn->revoked || cn->valid_until <= ngx_time()) {
        if (cn && cn->valid_until <= ngx_time()) {
            ngx_http_airflow_auth_cache_remove(cache, cn);
        }

        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_DECLINED;
    }

    total = 0;
    for (i = 0; i < NGX_HTTP_AIRFLOW_AUTH_NVARS; i++) {
        total += cn->len[i];
    }

    copy = ngx_pnalloc(r->pool, total + 1);
    if (copy == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return NGX_DECLINED;
    }

    ngx_memcpy(copy, cn->data + AA_REDIS_HASH_LEN, total);

    ngx_queue_remove(&cn->queue);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    p = copy;
    for (i = 0; i < NGX_HTTP_AIRFLOW_AUTH_NVARS; i++) {
        ctx->vars[i].data = p;
        ctx->vars[i].len = cn->len[i];
        p += cn->len[i];
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    ctx->session.user =
        *(aa_str_t *) &ctx->vars[NGX_HTTP_AIRFLOW_AUTH_VAR_USER];

    ctx->identity = 1;

    return NGX_OK;
}


void
ngx_http_airflow_auth_cache_put(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    u_char                              *p;
    size_t                               size;
    time_t                               until, refresh;
    ngx_uint_t                           i;
    ngx_http_airflow_auth_cache_t       *cache;
    ngx_http_airflow_auth_main_conf_t   *amcf;
    ngx_http_airflow_auth_cache_node_t  *cn;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airflow_auth_module);
    cache = amcf->cache;

    if (!ngx_http_airflow_auth_cache_usable(amcf)) {
        return;
    }

    refresh = ngx_max(1, amcf->idle_timeout / 10);
    until = ctx->session.last_seen + refresh;
    until = ngx_min(until, ctx->session.expires);
    until = ngx_min(until, ctx->session.idle_expires);

    if (until <= ngx_time()) {
        return;
    }

    size = offsetof(ngx_http_airflow_auth_cache_node_t, data)
           + AA_REDIS_HASH_LEN;

    for (i = 0; i < NGX_HTTP_AIRFLOW_AUTH_NVARS; i++) {
        if (ctx->vars[i].len > 0xffff) {
            return;
        }

        size += ctx->vars[i].len;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_airflow_auth_cache_find(cache, ctx->hash,
                                          AA_REDIS_HASH_LEN);
    if (cn) {
        if (cn->revoked && cn->valid_until > ngx_time()) {
            /* revoked while this GET was on its way */
            ngx_shmtx_unlock(&cache->shpool->mutex);
            return;
        }

        ngx_http_airflow_auth_cache_remove(cache, cn);
    }

    cn = ngx_http_airflow_auth_cache_alloc(cache, size);
    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    p = ngx_cpymem(cn->data, ctx->hash, AA_REDIS_HASH_LEN);

    for (i = 0; i < NGX_HTTP_AIRFLOW_AUTH_NVARS; i++) {
        cn->len[i] = (u_short) ctx->vars[i].len;
        p = ngx_cpymem(p, ctx->vars[i].data, ctx->vars[i].len);
    }

    cn->sn.str.data = cn->data;
    cn->sn.str.len = AA_REDIS_HASH_LEN;
    cn->sn.node.key = ngx_crc32_short(cn->data, AA_REDIS_HASH_LEN);
    cn->generation = cache->sh->generation;
    cn->valid_until = until;
    cn->revoked = 0;

    ngx_rbtree_insert(&cache->sh->rbtree, &cn->sn.node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_http_airflow_auth_cache_delete(ngx_http_airflow_auth_main_conf_t *amcf,
    u_char *hash, size_t len)
{
    time_t                               until;
    ngx_http_airflow_auth_cache_t       *cache;
    ngx_http_airflow_auth_cache_node_t  *cn;

    cache = amcf->cache;

    if (cache == NULL || len != AA_REDIS_HASH_LEN) {
        return;
    }

    until = ngx_time() + (time_t) (amcf->redis_timeout / 1000) + 2;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_airflow_auth_cache_find(cache, hash, len);

    if (cn == NULL) {
        cn = ngx_http_airflow_auth_cache_alloc(cache,
                       offsetof(ngx_http_airflow_auth_cache_node_t, data)
                       + AA_REDIS_HASH_LEN);
        if (cn == NULL) {
            ngx_shmtx_unlock(&cache->shpool->mutex);
            return;
        }

        ngx_memcpy(cn->data, hash, len);
        ngx_memzero(cn->len, sizeof(cn->len));
        cn->sn.str.data = cn->data;
        cn->sn.str.len = len;
        cn->sn.node.key = ngx_crc32_short(cn->data, len);
        cn->generation = cache->sh->generation;

        ngx_rbtree_insert(&cache->sh->rbtree, &cn->sn.node);
        ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
    }

    cn->revoked = 1;
    cn->valid_until = until;

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


void
ngx_http_airflow_auth_cache_flush(ngx_http_airflow_auth_main_conf_t *amcf)
{
    ngx_http_airflow_auth_cache_t  *cache;

    cache = amcf->cache;

    if (cache == NULL) {
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);
    cache->sh->generation++;
    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/* An entry of an older generation counts as absent and goes on sight. */
static ngx_http_airflow_auth_cache_node_t *
ngx_http_airflow_auth_cache_find(ngx_http_airflow_auth_cache_t *cache,
    u_char *hash, size_t len)
{
    ngx_str_t                            key;
    ngx_str_node_t                      *sn;
    ngx_http_airflow_auth_cache_node_t  *cn;

    key.data = hash;
    key.len = len;

    sn = ngx_str_rbtree_lookup(&cache->sh->rbtree, &key,
                               ngx_crc32_short(hash, len));
    if (sn == NULL) {
        return NULL;
    }

    cn = (ngx_http_airflow_auth_cache_node_t *) sn;

    if (cn->generation != cache->sh->generation) {
        ngx_http_airflow_auth_cache_remove(cache, cn);
        return NULL;
    }

    return cn;
}


static void
ngx_http_airflow_auth_cache_remove(ngx_http_airflow_auth_cache_t *cache,
    ngx_http_airflow_auth_cache_node_t *cn)
{
    ngx_rbtree_delete(&cache->sh->rbtree, &cn->sn.node);
    ngx_queue_remove(&cn->queue);
    ngx_slab_free_locked(cache->shpool, cn);
}


/* Makes room by dropping the least recently used entries. */
static void *
ngx_http_airflow_auth_cache_alloc(ngx_http_airflow_auth_cache_t *cache,
    size_t size)
{
    void                                *p;
    ngx_uint_t                           n;
    ngx_queue_t                         *q;
    ngx_http_airflow_auth_cache_node_t  *cn;

    for (n = 0; n < 16; n++) {
        p = ngx_slab_alloc_locked(cache->shpool, size);
        if (p) {
            return p;
        }

        if (ngx_queue_empty(&cache->sh->queue)) {
            return NULL;
        }

        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_airflow_auth_cache_node_t, queue);
        ngx_http_airflow_auth_cache_remove(cache, cn);
    }

    return NULL;
}
