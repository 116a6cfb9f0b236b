/*
 * rediss://: the TLS handshake on a new connection, and the checks of the
 * server's certificate, against the CA and then against the host name or
 * address of the URL, before any command is sent.
 */

#include "ngx_http_airflow_auth_redis_int.h"


#if (NGX_SSL)

static void ngx_http_airflow_auth_redis_tls_done(ngx_connection_t *c);
static ngx_int_t ngx_http_airflow_auth_redis_tls_check_host(
    ngx_http_airflow_auth_redis_t *rd, ngx_connection_t *c);
static ngx_uint_t ngx_http_airflow_auth_redis_is_ip(ngx_str_t *host);


void
ngx_http_airflow_auth_redis_tls_start(ngx_http_airflow_auth_redis_t *rd)
{
    ngx_int_t          rc;
    ngx_str_t         *host;
    ngx_connection_t  *c;

    c = rd->peer.connection;
    host = (ngx_str_t *) &rd->amcf->redis.hosts[0].host;

    rd->state = NGX_HTTP_AIRFLOW_AUTH_REDIS_HANDSHAKE;

    /* ngx_ssl_create_connection() allocates from the connection's pool */
    c->pool = ngx_create_pool(512, &rd->conn_log);
    if (c->pool == NULL) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "out of memory");
        return;
    }

    if (ngx_ssl_create_connection(rd->amcf->redis_ssl, c, NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_airflow_auth_redis_fail(rd, 0, "cannot start TLS");
        return;
    }

    /* SNI carries a host name, never an address (RFC 6066); host is a C
     * string, as the URL parser makes them */
    if (!ngx_http_airflow_auth_redis_is_ip(host)
        && SSL_set_tlsext_host_name(c->ssl->connection, (char *) host->data)
           == 0)
    {
        ngx_http_airflow_auth_redis_fail(rd, 0, "cannot set the TLS server "
                                         "name");
        return;
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        /* the connect timeout goes on covering the handshake */
        if (!c->write->timer_set) {
            ngx_add_timer(c->write, rd->amcf->redis_timeout);
        }

        c->ssl->handler = ngx_http_airflow_auth_redis_tls_done;
        return;
    }

    ngx_http_airflow_auth_redis_tls_done(c);
}


static void
ngx_http_airflow_auth_redis_tls_done(ngx_connection_t *c)
{
    long                            rc;
    ngx_http_airflow_auth_redis_t  *rd;

    rd = c->data;

    if (!c->ssl->handshaked) {
        if (c->write->timedout || c->read->timedout) {
            ngx_http_airflow_auth_redis_fail(rd, NGX_ETIMEDOUT,
                                             "TLS handshake timed out");

        } else {
            ngx_http_airflow_auth_redis_fail(rd, 0, "TLS handshake failed");
        }

        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_http_airflow_auth_redis_fail(rd, 0,
                                         "certificate verify failed: %s",
                                         X509_verify_cert_error_string(rc));
        return;
    }

    if (ngx_http_airflow_auth_redis_tls_check_host(rd, c) != NGX_OK) {
        ngx_http_airflow_auth_redis_fail(rd, 0, "certificate does not match "
                                         "host \"%s\"",
                                         rd->amcf->redis.hosts[0].host.data);
        return;
    }

    c->read->handler = ngx_http_airflow_auth_redis_read_handler;
    c->write->handler = ngx_http_airflow_auth_redis_write_handler;

    /* the handshake may have read ahead past its last record */
    ngx_post_event(c->read, &ngx_posted_events);

    ngx_http_airflow_auth_redis_connected(rd);
}


/*
 * ngx_ssl_check_host() matches DNS names only, so an address in the URL is
 * matched against the certificate's IP address entries instead.
 */
static ngx_int_t
ngx_http_airflow_auth_redis_tls_check_host(ngx_http_airflow_auth_redis_t *rd,
    ngx_connection_t *c)
{
    int         rc;
    X509       *cert;
    ngx_str_t  *host;

    host = (ngx_str_t *) &rd->amcf->redis.hosts[0].host;

    if (!ngx_http_airflow_auth_redis_is_ip(host)) {
        return ngx_ssl_check_host(c, host);
    }

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    cert = SSL_get1_peer_certificate(c->ssl->connection);
#else
    cert = SSL_get_peer_certificate(c->ssl->connection);
#endif

    if (cert == NULL) {
        return NGX_ERROR;
    }

    rc = X509_check_ip_asc(cert, (const char *) host->data, 0);

    X509_free(cert);

    return rc == 1 ? NGX_OK : NGX_ERROR;
}


static ngx_uint_t
ngx_http_airflow_auth_redis_is_ip(ngx_str_t *host)
{
    /* the URL parser keeps IPv6 literals without their brackets */
    return ngx_strlchr(host->data, host->data + host->len, ':') != NULL
           || ngx_inet_addr(host->data, host->len) != INADDR_NONE;
}

#endif
