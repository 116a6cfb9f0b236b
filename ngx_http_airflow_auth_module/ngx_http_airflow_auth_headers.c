/*
 * Request headers: removing client-sent identity headers, adding ours for
 * the upstream, and telling a browser navigation from an API call.
 *
 * nginx keeps pointers to well-known request headers (Host, Cookie, ...)
 * inside r->headers_in, pointing into the header list, so a removal must
 * never move an element: the list part is split around the removed one
 * instead, as headers-more does.
 */

#include "ngx_http_airflow_auth_headers.h"


typedef struct {
    ngx_str_t    name;
    ngx_str_t    lowcase;
} ngx_http_airflow_auth_header_name_t;


static ngx_uint_t ngx_http_airflow_auth_is_identity(ngx_table_elt_t *h);
static ngx_uint_t ngx_http_airflow_auth_name_is(ngx_table_elt_t *h,
    const char *name, size_t len);
static ngx_int_t ngx_http_airflow_auth_list_remove(ngx_list_t *l,
    ngx_list_part_t **prev_p, ngx_list_part_t **part_p, ngx_uint_t *i_p);
static ngx_int_t ngx_http_airflow_auth_list_unlink(ngx_list_t *l,
    ngx_list_part_t *prev, ngx_list_part_t **part_p, ngx_uint_t *i_p);
static ngx_table_elt_t *ngx_http_airflow_auth_find(ngx_http_request_t *r,
    const char *name, size_t len);
static ngx_uint_t ngx_http_airflow_auth_value_has(ngx_table_elt_t *h,
    const char *token);


static ngx_http_airflow_auth_header_name_t  ngx_http_airflow_auth_headers[] = {
    { ngx_string("X-Airflow-User"), ngx_string("x-airflow-user") },
    { ngx_string("X-Airflow-Email"), ngx_string("x-airflow-email") },
    { ngx_string("X-Airflow-Name"), ngx_string("x-airflow-name") },
    { ngx_string("X-Airflow-Roles"), ngx_string("x-airflow-roles") },
    { ngx_string("X-Airflow-Groups"), ngx_string("x-airflow-groups") },
    { ngx_string("X-Airflow-Idp"), ngx_string("x-airflow-idp") },
};


ngx_int_t
ngx_http_airflow_auth_strip_identity(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part, *prev;
    ngx_table_elt_t  *h;

    prev = NULL;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; /* void */) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_OK;
            }

            prev = part;
            part = part->next;
            h = part->elts;
            i = 0;
            continue;
        }

        if (h[i].hash == 0 || !ngx_http_airflow_auth_is_identity(&h[i])) {
            i++;
            continue;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       NGX_HTTP_AIRFLOW_AUTH_LOG "removed client header "
                       "\"%V: %V\"", &h[i].key, &h[i].value);

        if (ngx_http_airflow_auth_list_remove(&r->headers_in.headers, &prev,
                                              &part, &i)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        h = part->elts;
    }
}


/*
 * X-Airflow-* in any case, with '-' or '_', and the two headers other
 * gateways and WSGI servers take as the remote user.
 */
static ngx_uint_t
ngx_http_airflow_auth_is_identity(ngx_table_elt_t *h)
{
    if (h->key.len >= sizeof("x-airflow-") - 1
        && ngx_http_airflow_auth_name_is(h, "x-airflow-",
                                         sizeof("x-airflow-") - 1))
    {
        return 1;
    }

    return (h->key.len == sizeof("remote-user") - 1
            && ngx_http_airflow_auth_name_is(h, "remote-user",
                                             sizeof("remote-user") - 1))
           || (h->key.len == sizeof("x-forwarded-user") - 1
               && ngx_http_airflow_auth_name_is(h, "x-forwarded-user",
                                            sizeof("x-forwarded-user") - 1));
}


/* compares the first len bytes of the name, folding case and '_' to '-' */
static ngx_uint_t
ngx_http_airflow_auth_name_is(ngx_table_elt_t *h, const char *name,
    size_t len)
{
    u_char      ch;
    ngx_uint_t  n;

    for (n = 0; n < len; n++) {
        ch = ngx_tolower(h->key.data[n]);

        if (ch == '_') {
            ch = '-';
        }

        if (ch != (u_char) name[n]) {
            return 0;
        }
    }

    return 1;
}


/*
 * Removes element *i of *part (*prev is the part before it, NULL for the
 * first) without moving any element, and leaves *prev, *part and *i where
 * the scan resumes.  Two invariants of ngx_list_t must survive:
 *
 *  - every part but the first holds at least one element, since the usual
 *    iteration reads elts[0] of each next part unchecked;
 *  - ngx_list_push() writes into the last part until it holds l->nalloc
 *    elements, so once the last part is cut or moved, l->nalloc becomes
 *    its size: it counts as full and the next push gets a new part.
 */
static ngx_int_t
ngx_http_airflow_auth_list_remove(ngx_list_t *l, ngx_list_part_t **prev_p,
    ngx_list_part_t **part_p, ngx_uint_t *i_p)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *elts;
    ngx_list_part_t  *part, *tail;

    part = *part_p;
    i = *i_p;
    elts = part->elts;

    if (part->nelts == 1) {
        return ngx_http_airflow_auth_list_unlink(l, *prev_p, part_p, i_p);
    }

    if (i == 0) {
        part->elts = &elts[1];
        part->nelts--;

    } else if (i == part->nelts - 1) {
        part->nelts--;
        *i_p = part->nelts;

    } else {
        tail = ngx_palloc(l->pool, sizeof(ngx_list_part_t));
        if (tail == NULL) {
            return NGX_ERROR;
        }

        tail->elts = &elts[i + 1];
        tail->nelts = part->nelts - i - 1;
        tail->next = part->next;

        part->nelts = i;
        part->next = tail;

        if (l->last == part) {
            l->last = tail;
        }

        *prev_p = part;
        *part_p = tail;
        *i_p = 0;
        part = tail;
    }

    if (l->last == part) {
        l->nalloc = part->nelts;
    }

    return NGX_OK;
}


/* Drops a part whose only element is removed. */
static ngx_int_t
ngx_http_airflow_auth_list_unlink(ngx_list_t *l, ngx_list_part_t *prev,
    ngx_list_part_t **part_p, ngx_uint_t *i_p)
{
    ngx_list_part_t  *part, *next;

    part = *part_p;
    next = part->next;
    *i_p = 0;

    if (prev == NULL) {
        /* the first part lives inside the list: take over the next one */

        if (next == NULL) {
            /* pushes go to its start again, within its allocation */
            part->nelts = 0;
            return NGX_OK;
        }

        *part = *next;

        if (l->last == next) {
            l->last = part;
        }

        return NGX_OK;
    }

    prev->next = next;

    if (l->last == part) {
        l->last = prev;

        if (prev->nelts == 0) {
            /* an empty first part: give it fresh room, nothing moves */
            prev->elts = ngx_palloc(l->pool, l->nalloc * l->size);
            if (prev->elts == NULL) {
                return NGX_ERROR;
            }

        } else {
            l->nalloc = prev->nelts;
        }
    }

    /* resume after prev: at next, or at prev's end when there is none */
    if (next) {
        *part_p = next;

    } else {
        *part_p = prev;
        *i_p = prev->nelts;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_airflow_auth_set_identity(ngx_http_request_t *r,
    ngx_http_airflow_auth_ctx_t *ctx)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    /* an internal redirect may bring our own headers from before */
    if (ngx_http_airflow_auth_strip_identity(r) != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_AIRFLOW_AUTH_NVARS; i++) {
        h = ngx_list_push(&r->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->key = ngx_http_airflow_auth_headers[i].name;
        h->lowcase_key = ngx_http_airflow_auth_headers[i].lowcase.data;
        h->hash = ngx_hash_key(h->lowcase_key, h->key.len);
        h->value = ctx->vars[i];
    }

    return NGX_OK;
}


/*
 * A top-level browser navigation may be redirected to the login page;
 * anything else (XHR, fetch, API clients, non-GET) gets a 401 it can act
 * on.  Fetch metadata decides when the browser sends it.
 */
ngx_uint_t
ngx_http_airflow_auth_is_navigation(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return 0;
    }

    if (ngx_http_airflow_auth_find(r, "x-requested-with",
                                   sizeof("x-requested-with") - 1))
    {
        return 0;
    }

    h = ngx_http_airflow_auth_find(r, "sec-fetch-mode",
                                   sizeof("sec-fetch-mode") - 1);
    if (h) {
        return h->value.len == sizeof("navigate") - 1
               && ngx_strncasecmp(h->value.data, (u_char *) "navigate",
                                  h->value.len) == 0;
    }

    h = ngx_http_airflow_auth_find(r, "sec-fetch-dest",
                                   sizeof("sec-fetch-dest") - 1);
    if (h) {
        return ngx_http_airflow_auth_value_has(h, "document")
               || ngx_http_airflow_auth_value_has(h, "iframe")
               || ngx_http_airflow_auth_value_has(h, "frame");
    }

    h = ngx_http_airflow_auth_find(r, "accept", sizeof("accept") - 1);

    return h != NULL && ngx_http_airflow_auth_value_has(h, "text/html");
}


static ngx_table_elt_t *
ngx_http_airflow_auth_find(ngx_http_request_t *r, const char *name,
    size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0
            && h[i].key.len == len
            && ngx_strncmp(h[i].lowcase_key, name, len) == 0)
        {
            return &h[i];
        }
    }
}


static ngx_uint_t
ngx_http_airflow_auth_value_has(ngx_table_elt_t *h, const char *token)
{
    return ngx_strlcasestrn(h->value.data, h->value.data + h->value.len,
                            (u_char *) token, ngx_strlen(token) - 1)
           != NULL;
}


ngx_int_t
ngx_http_airflow_auth_get_cookie(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
#if (nginx_version >= 1023000)
    return ngx_http_parse_multi_header_lines(r, r->headers_in.cookie, name,
                                             value)
           ? NGX_OK : NGX_DECLINED;
#else
    return ngx_http_parse_multi_header_lines(&r->headers_in.cookies, name,
                                             value) == NGX_DECLINED
           ? NGX_DECLINED : NGX_OK;
#endif
}
