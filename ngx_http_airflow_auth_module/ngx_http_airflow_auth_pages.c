/*
 * Every response the module writes itself: HTML pages, JSON bodies and
 * redirects.  Each carries a strict Content-Security-Policy (no script at
 * all; the one inline stylesheet allowed by its hash), nosniff, no-store
 * and a frame ban, and every value a page reflects is HTML-escaped.
 */

#include <openssl/evp.h>

#include "ngx_http_airflow_auth_pages.h"


static ngx_int_t ngx_http_airflow_auth_send(ngx_http_request_t *r,
    ngx_uint_t status, const char *type, size_t type_len, ngx_buf_t *b);
static ngx_int_t ngx_http_airflow_auth_protect(ngx_http_request_t *r);


ngx_str_t  ngx_http_airflow_auth_page_style = ngx_string(
    "body{font-family:system-ui,sans-serif;background:#f4f6f8;color:#1d2a35;"
    "margin:0}main{max-width:34rem;margin:12vh auto;background:#fff;"
    "padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px #0002}"
    "h1{font-size:1.4rem;margin-top:0}a{color:#017cee}"
    "code{background:#eef1f4;padding:0 .3em;border-radius:3px}"
    "small{color:#5f6b76}");


ngx_int_t
ngx_http_airflow_auth_pages_csp(ngx_conf_t *cf, ngx_str_t *csp)
{
    u_char        *p;
    unsigned int   n;
    ngx_str_t      digest, b64;
    u_char         md[EVP_MAX_MD_SIZE];

    static const char  head[] = "default-src 'none'; style-src 'sha256-";
    static const char  tail[] = "'; img-src 'self'; form-action 'self'; "
                                "base-uri 'none'; frame-ancestors 'none'";

    if (EVP_Digest(ngx_http_airflow_auth_page_style.data,
                   ngx_http_airflow_auth_page_style.len, md, &n,
                   EVP_sha256(), NULL)
        != 1)
    {
        return NGX_ERROR;
    }

    digest.data = md;
    digest.len = n;

    b64.len = ngx_base64_encoded_length(n);
    csp->len = sizeof(head) - 1 + b64.len + sizeof(tail) - 1;
    csp->data = ngx_pnalloc(cf->pool, csp->len);
    if (csp->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(csp->data, head, sizeof(head) - 1);
    b64.data = p;
    ngx_encode_base64(&b64, &digest);
    p += b64.len;
    ngx_memcpy(p, tail, sizeof(tail) - 1);

    return NGX_OK;
}


ngx_int_t
ngx_http_airflow_auth_html(ngx_http_request_t *r, ngx_str_t *s,
    ngx_str_t *out)
{
    out->len = aa_html_escape(NULL, s->data, s->len);
    out->data = ngx_pnalloc(r->pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = aa_html_escape(out->data, s->data, s->len);

    return NGX_OK;
}


ngx_int_t
ngx_http_airflow_auth_send_page(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, ngx_str_t *message, ngx_str_t *extra)
{
    size_t      len;
    ngx_buf_t  *b;
    ngx_str_t   raw, t, msg;

    static const char  p1[] = "<!DOCTYPE html>\n<html lang=\"en\"><head>"
        "<meta charset=\"utf-8\"><meta name=\"viewport\" "
        "content=\"width=device-width,initial-scale=1\"><title>";
    static const char  p2[] = " - Airflow</title><style>";
    static const char  p3[] = "</style></head><body><main><h1>";
    static const char  p4[] = "</h1><p>";
    static const char  p5[] = "</p>";
    static const char  p6[] = "<p><small>Airflow sign-in gateway</small></p>"
                              "</main></body></html>\n";

    raw.data = (u_char *) title;
    raw.len = ngx_strlen(title);

    if (ngx_http_airflow_auth_html(r, &raw, &t) != NGX_OK
        || ngx_http_airflow_auth_html(r, message, &msg) != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = sizeof(p1) - 1 + t.len + sizeof(p2) - 1
          + ngx_http_airflow_auth_page_style.len + sizeof(p3) - 1 + t.len
          + sizeof(p4) - 1 + msg.len + sizeof(p5) - 1
          + (extra ? extra->len : 0) + sizeof(p6) - 1;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, p1, sizeof(p1) - 1);
    b->last = ngx_cpymem(b->last, t.data, t.len);
    b->last = ngx_cpymem(b->last, p2, sizeof(p2) - 1);
    b->last = ngx_cpymem(b->last, ngx_http_airflow_auth_page_style.data,
                         ngx_http_airflow_auth_page_style.len);
    b->last = ngx_cpymem(b->last, p3, sizeof(p3) - 1);
    b->last = ngx_cpymem(b->last, t.data, t.len);
    b->last = ngx_cpymem(b->last, p4, sizeof(p4) - 1);
    b->last = ngx_cpymem(b->last, msg.data, msg.len);
    b->last = ngx_cpymem(b->last, p5, sizeof(p5) - 1);

    if (extra) {
        b->last = ngx_cpymem(b->last, extra->data, extra->len);
    }

    b->last = ngx_cpymem(b->last, p6, sizeof(p6) - 1);

    return ngx_http_airflow_auth_send(r, status, "text/html; charset=utf-8",
                                 sizeof("text/html; charset=utf-8") - 1, b);
}


ngx_int_t
ngx_http_airflow_auth_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *json)
{
    ngx_buf_t  *b;

    b = ngx_create_temp_buf(r->pool, json->len + 1);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, json->data, json->len);
    *b->last++ = '\n';

    return ngx_http_airflow_auth_send(r, status, "application/json",
                                      sizeof("application/json") - 1, b);
}


ngx_int_t
ngx_http_airflow_auth_send_redirect(ngx_http_request_t *r,
    ngx_str_t *location)
{
    ngx_str_t  msg, link, href;

    /*
     * Location goes out as we wrote it: r->headers_out.location would be
     * made absolute from the Host header, which behind a proxy may be
     * neither our scheme nor our name.
     */
    if (ngx_http_airflow_auth_add_header(r, "Location", location) != NGX_OK
        || ngx_http_airflow_auth_html(r, location, &href) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&msg, "Continue to sign in.");

    link.len = sizeof("<p><a href=\"\">Continue</a></p>") - 1 + href.len;
    link.data = ngx_pnalloc(r->pool, link.len);
    if (link.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(link.data, "<p><a href=\"%V\">Continue</a></p>", &href);

    return ngx_http_airflow_auth_send_page(r, NGX_HTTP_MOVED_TEMPORARILY,
                                           "Sign in", &msg, &link);
}


static ngx_int_t
ngx_http_airflow_auth_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *type, size_t type_len, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_airflow_auth_protect(r) != NGX_OK) {
        return NGX_ERROR;
    }

    r->headers_out.status = status;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = type_len;
    r->headers_out.content_type_len = type_len;
    r->headers_out.content_length_n = b->last - b->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_airflow_auth_protect(ngx_http_request_t *r)
{
    ngx_str_t                           v;
    ngx_http_airflow_auth_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_airflow_auth_module);

    if (ngx_http_airflow_auth_add_header(r, "Content-Security-Policy",
                                         &amcf->csp)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "nosniff");
    if (ngx_http_airflow_auth_add_header(r, "X-Content-Type-Options", &v)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "DENY");
    if (ngx_http_airflow_auth_add_header(r, "X-Frame-Options", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "no-referrer");
    if (ngx_http_airflow_auth_add_header(r, "Referrer-Policy", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_str_set(&v, "no-store");

    return ngx_http_airflow_auth_add_header(r, "Cache-Control", &v);
}


ngx_int_t
ngx_http_airflow_auth_add_header(ngx_http_request_t *r, const char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}
