/*
 * airflow_auth_redis, at configuration time: the URL parsed, every address
 * resolved (the workers never wait on DNS), the client TLS context of
 * rediss:// made and its CA certificates loaded, and the list of sentinels
 * of sentinel:// laid out.
 */

#include "ngx_http_airflow_auth_redis.h"
#include "ngx_http_airflow_auth_session.h"


#define NGX_HTTP_AIRFLOW_AUTH_REDIS_CA_BUNDLE                                 \
    "/etc/ssl/certs/ca-certificates.crt"
#define NGX_HTTP_AIRFLOW_AUTH_REDIS_VERIFY_DEPTH  10


static ngx_int_t ngx_http_airflow_auth_redis_resolve(ngx_conf_t *cf,
    aa_redis_host_t *h, ngx_addr_t *addr);
static ngx_int_t ngx_http_airflow_auth_redis_query(ngx_conf_t *cf,
    u_char *p, u_char *end, ngx_str_t *ca);
static ngx_int_t ngx_http_airflow_auth_redis_sentinel_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf);
#if (NGX_SSL)
static ngx_int_t ngx_http_airflow_auth_redis_tls_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf, ngx_str_t *ca);
#endif


/*
 * airflow_auth_redis: parses the URL and resolves every address once, at
 * configuration time.  rediss:// takes one parameter, ?ca=/path: the
 * certificates to verify the server with instead of the system's.
 */
char *
ngx_http_airflow_auth_redis_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf, ngx_str_t *url)
{
    u_char         *q;
    ngx_str_t       spec, ca;
    ngx_url_t       u;
    ngx_uint_t      tls;
    aa_alloc_t      a;
    aa_redis_url_t *ru;
    char            err[256];

    a.alloc = ngx_http_airflow_auth_palloc;
    a.data = cf->pool;
    ru = &amcf->redis;

    spec = *url;
    ngx_str_null(&ca);

    tls = url->len > sizeof("rediss://") - 1
          && ngx_strncasecmp(url->data, (u_char *) "rediss://",
                             sizeof("rediss://") - 1) == 0;

    /* a '?' in a password must be written %3F, as in any URL */
    q = ngx_strlchr(url->data, url->data + url->len, '?');

    if (q != NULL && tls) {
        spec.len = q - url->data;

        if (ngx_http_airflow_auth_redis_query(cf, q + 1, url->data + url->len,
                                              &ca)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else if (q != NULL && url->data + url->len - q > 3
               && ngx_strncmp(q + 1, "ca=", 3) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis\": ?ca= is for rediss:// "
                           "URLs only");
        return NGX_CONF_ERROR;
    }

    /* the URL may hold a password: it is never echoed into the log */
    if (aa_redis_url_parse(spec.data, spec.len, &a, ru, err, sizeof(err))
        != AA_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis\": %s", err);
        return NGX_CONF_ERROR;
    }

    amcf->redis_url = *url;

    if (ru->scheme == AA_REDIS_SENTINEL) {
        if (ngx_http_airflow_auth_redis_sentinel_conf(cf, amcf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
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

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"airflow_auth_redis\": cannot use \"%V\": %s",
                               &u.url, u.err ? u.err : "no address");
            return NGX_CONF_ERROR;
        }

        amcf->redis_addr = &u.addrs[0];
        amcf->redis_name = u.url;

        return NGX_CONF_OK;
    }

    amcf->redis_addr = ngx_pcalloc(cf->pool, sizeof(ngx_addr_t));
    if (amcf->redis_addr == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_airflow_auth_redis_resolve(cf, &ru->hosts[0],
                                            amcf->redis_addr)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    amcf->redis_name = amcf->redis_addr->name;

    if (ru->scheme != AA_REDIS_TLS) {
        return NGX_CONF_OK;
    }

#if (NGX_SSL)

    if (ngx_http_airflow_auth_redis_tls_conf(cf, amcf, &ca) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"airflow_auth_redis\": rediss:// needs nginx built "
                       "with SSL support");
    return NGX_CONF_ERROR;

#endif
}


/* host:port to one address; addr->name is "host:port" for the logs */
static ngx_int_t
ngx_http_airflow_auth_redis_resolve(ngx_conf_t *cf, aa_redis_host_t *h,
    ngx_addr_t *addr)
{
    u_char     *p;
    ngx_url_t   u;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.len = h->host.len + sizeof("[]:65535") - 1;
    u.url.data = ngx_pnalloc(cf->pool, u.url.len);
    if (u.url.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_strlchr(h->host.data, h->host.data + h->host.len, ':')
        ? ngx_sprintf(u.url.data, "[%*s]:%d", h->host.len, h->host.data,
                      h->port)
        : ngx_sprintf(u.url.data, "%*s:%d", h->host.len, h->host.data,
                      h->port);
    u.url.len = p - u.url.data;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis\": cannot use \"%V\": %s",
                           &u.url, u.err ? u.err : "no address");
        return NGX_ERROR;
    }

    *addr = u.addrs[0];
    addr->name = u.url;

    return NGX_OK;
}


/*
 * The query of a rediss:// URL.  Nothing of it is echoed: a password with
 * a raw '?' would put part of itself here.
 */
static ngx_int_t
ngx_http_airflow_auth_redis_query(ngx_conf_t *cf, u_char *p, u_char *end,
    ngx_str_t *ca)
{
    u_char  *q;

    if (end - p < 4 || ngx_strncmp(p, "ca=", 3) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis\": rediss:// takes only "
                           "the ?ca=/path/to/ca.pem parameter (write a '?' "
                           "in a password as %%3F)");
        return NGX_ERROR;
    }

    p += 3;

    for (q = p; q < end; q++) {
        if (*q < 0x20 || *q == 0x7f || *q == '&') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"airflow_auth_redis\": the ?ca= path holds "
                               "a control character or '&'");
            return NGX_ERROR;
        }
    }

    /* OpenSSL reads a C string */
    ca->len = end - p;
    ca->data = ngx_pnalloc(cf->pool, ca->len + 1);
    if (ca->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ca->data, p, ca->len);
    ca->data[ca->len] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_airflow_auth_redis_sentinel_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf)
{
    u_char          *p;
    size_t           i, len;
    aa_redis_url_t  *ru;

    ru = &amcf->redis;

    amcf->redis_sentinels = ngx_pcalloc(cf->pool,
                                        ru->nhosts * sizeof(ngx_addr_t));
    if (amcf->redis_sentinels == NULL) {
        return NGX_ERROR;
    }

    len = sizeof("sentinel://") - 1 + ru->master.len;

    for (i = 0; i < ru->nhosts; i++) {
        if (ngx_http_airflow_auth_redis_resolve(cf, &ru->hosts[i],
                                                &amcf->redis_sentinels[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        len += amcf->redis_sentinels[i].name.len + 1;
    }

    /* sentinel://h:p,h:p/master, without the credentials */
    amcf->redis_name.data = ngx_pnalloc(cf->pool, len);
    if (amcf->redis_name.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(amcf->redis_name.data, "sentinel://",
                   sizeof("sentinel://") - 1);

    for (i = 0; i < ru->nhosts; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, amcf->redis_sentinels[i].name.data,
                       amcf->redis_sentinels[i].name.len);
    }

    *p++ = '/';
    p = ngx_cpymem(p, ru->master.data, ru->master.len);

    amcf->redis_name.len = p - amcf->redis_name.data;
    amcf->redis_addr = NULL;

    return NGX_OK;
}


#if (NGX_SSL)

/*
 * The client TLS context: TLS 1.2 or 1.3, the server's certificate checked
 * against ca (default: the system's bundle) once the handshake is done.
 */
static ngx_int_t
ngx_http_airflow_auth_redis_tls_conf(ngx_conf_t *cf,
    ngx_http_airflow_auth_main_conf_t *amcf, ngx_str_t *ca)
{
    ngx_str_t            file;
    ngx_ssl_t           *ssl;
    ngx_pool_cleanup_t  *cln;

    ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (ssl == NULL) {
        return NGX_ERROR;
    }

    ssl->log = cf->log;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL) != NGX_OK) {
        if (ssl->ctx) {
            SSL_CTX_free(ssl->ctx);
        }

        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    /* the output buffer may move between a short write and its retry */
    SSL_CTX_set_mode(ssl->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    if (ca->len) {
        file = *ca;

    } else {
        ngx_str_set(&file, NGX_HTTP_AIRFLOW_AUTH_REDIS_CA_BUNDLE);
    }

    if (ngx_ssl_trusted_certificate(cf, ssl, &file,
                                    NGX_HTTP_AIRFLOW_AUTH_REDIS_VERIFY_DEPTH)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis\": cannot load the CA "
                           "certificates from \"%V\"%s", &file,
                           ca->len ? "" : " (give others with ?ca=/path)");
        return NGX_ERROR;
    }

    amcf->redis_ssl = ssl;

    return NGX_OK;
}

#endif
