/*
 * The session record as JSON (jansson), its timing rules, the /whoami
 * identity object and the comma lists used by headers and the CLI.
 *
 * Decoding is strict because a record that does not look exactly like one
 * we wrote is a bug or an attack: every field we write is required with its
 * type, except the optional strings, which read as empty when missing.
 * Unknown keys are ignored so that a newer gateway may add fields to a v1
 * record during a rolling upgrade.
 */

#include <string.h>

#include <jansson.h>

#include "aa_codec.h"
#include "aa_session.h"


static int aa_json_set_str(json_t *obj, const char *key, const aa_str_t *s);
static int aa_json_set_list(json_t *obj, const char *key,
    const aa_strlist_t *l);
static int aa_json_set_int(json_t *obj, const char *key, int64_t v);
static int aa_json_dump(json_t *obj, aa_alloc_t *a, aa_str_t *out);
static int aa_json_get_str(json_t *obj, const char *key, aa_alloc_t *a,
    aa_str_t *out);
static int aa_json_get_list(json_t *obj, const char *key, aa_alloc_t *a,
    aa_strlist_t *out);
static int aa_json_get_int(json_t *obj, const char *key, int64_t *out);
static int aa_json_copy_str(json_t *v, aa_alloc_t *a, aa_str_t *out);


static int
aa_json_set_str(json_t *obj, const char *key, const aa_str_t *s)
{
    json_t  *v;

    /* decode refuses NUL, so encode must not write one */
    if (s->len && memchr(s->data, '\0', s->len) != NULL) {
        return AA_ERROR;
    }

    v = json_stringn(s->len ? (const char *) s->data : "", s->len);
    if (v == NULL) {
        return AA_ERROR;
    }

    return json_object_set_new(obj, key, v) == 0 ? AA_OK : AA_ERROR;
}


static int
aa_json_set_list(json_t *obj, const char *key, const aa_strlist_t *l)
{
    size_t   i;
    json_t  *arr, *v;

    if (l->nelts > AA_SESSION_MAX_LIST) {
        return AA_ERROR;
    }

    arr = json_array();
    if (arr == NULL) {
        return AA_ERROR;
    }

    for (i = 0; i < l->nelts; i++) {
        if (l->elts[i].len
            && memchr(l->elts[i].data, '\0', l->elts[i].len) != NULL)
        {
            goto failed;
        }

        v = json_stringn(l->elts[i].len ? (const char *) l->elts[i].data : "",
                         l->elts[i].len);
        if (v == NULL) {
            goto failed;
        }

        if (json_array_append_new(arr, v) != 0) {
            goto failed;
        }
    }

    return json_object_set_new(obj, key, arr) == 0 ? AA_OK : AA_ERROR;

failed:

    json_decref(arr);

    return AA_ERROR;
}


static int
aa_json_set_int(json_t *obj, const char *key, int64_t v)
{
    json_t  *n;

    n = json_integer((json_int_t) v);
    if (n == NULL) {
        return AA_ERROR;
    }

    return json_object_set_new(obj, key, n) == 0 ? AA_OK : AA_ERROR;
}


/* Serialises into a, without handing jansson's own buffer to the caller. */
static int
aa_json_dump(json_t *obj, aa_alloc_t *a, aa_str_t *out)
{
    size_t   size;
    u_char  *p;

    size = json_dumpb(obj, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (size == 0) {
        return AA_ERROR;
    }

    p = aa_alloc(a, size + 1);
    if (p == NULL) {
        return AA_ERROR;
    }

    if (json_dumpb(obj, (char *) p, size, JSON_COMPACT | JSON_PRESERVE_ORDER)
        != size)
    {
        return AA_ERROR;
    }

    p[size] = '\0';

    out->data = p;
    out->len = size;

    return AA_OK;
}


int
aa_session_encode(const aa_session_t *s, aa_alloc_t *a, aa_str_t *out)
{
    int      rc;
    json_t  *obj;

    if (s->user.len == 0) {
        return AA_ERROR;
    }

    obj = json_object();
    if (obj == NULL) {
        return AA_ERROR;
    }

    rc = AA_ERROR;

    if (aa_json_set_int(obj, "v", AA_SESSION_VERSION) != AA_OK
        || aa_json_set_str(obj, "user", &s->user) != AA_OK
        || aa_json_set_str(obj, "email", &s->email) != AA_OK
        || aa_json_set_str(obj, "name", &s->name) != AA_OK
        || aa_json_set_list(obj, "groups", &s->groups) != AA_OK
        || aa_json_set_list(obj, "roles", &s->roles) != AA_OK
        || aa_json_set_str(obj, "idp", &s->idp) != AA_OK
        || aa_json_set_str(obj, "idp_type", &s->idp_type) != AA_OK
        || aa_json_set_str(obj, "sub", &s->sub) != AA_OK
        || aa_json_set_str(obj, "sid", &s->sid) != AA_OK)
    {
        goto failed;
    }

    if (s->id_token.len
        && aa_json_set_str(obj, "id_token", &s->id_token) != AA_OK)
    {
        goto failed;
    }

    if (aa_json_set_int(obj, "created", s->created) != AA_OK
        || aa_json_set_int(obj, "expires", s->expires) != AA_OK
        || aa_json_set_int(obj, "last_seen", s->last_seen) != AA_OK
        || aa_json_set_int(obj, "idle_expires", s->idle_expires) != AA_OK)
    {
        goto failed;
    }

    rc = aa_json_dump(obj, a, out);

failed:

    json_decref(obj);

    return rc;
}


/* Copies a JSON string into a; strings with NUL in them are refused. */
static int
aa_json_copy_str(json_t *v, aa_alloc_t *a, aa_str_t *out)
{
    size_t       len;
    const char  *p;

    if (!json_is_string(v)) {
        return AA_DECLINED;
    }

    p = json_string_value(v);
    len = json_string_length(v);

    /* jansson refuses \u0000 unless asked; this holds whatever the flags */
    if (memchr(p, '\0', len) != NULL) {
        return AA_DECLINED;
    }

    out->data = aa_strdup(a, (const u_char *) p, len);
    if (out->data == NULL) {
        return AA_ERROR;
    }

    out->len = len;

    return AA_OK;
}


/* A missing string reads as empty; "user" is checked for that later. */
static int
aa_json_get_str(json_t *obj, const char *key, aa_alloc_t *a, aa_str_t *out)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (v == NULL) {
        out->data = aa_strdup(a, (const u_char *) "", 0);
        out->len = 0;

        return out->data ? AA_OK : AA_ERROR;
    }

    return aa_json_copy_str(v, a, out);
}


static int
aa_json_get_list(json_t *obj, const char *key, aa_alloc_t *a,
    aa_strlist_t *out)
{
    int      rc;
    size_t   i, n;
    json_t  *arr;

    arr = json_object_get(obj, key);

    if (!json_is_array(arr)) {
        return AA_DECLINED;
    }

    n = json_array_size(arr);

    if (n > AA_SESSION_MAX_LIST) {
        return AA_DECLINED;
    }

    out->nelts = 0;
    out->elts = aa_alloc(a, n * sizeof(aa_str_t));
    if (out->elts == NULL) {
        return AA_ERROR;
    }

    for (i = 0; i < n; i++) {
        rc = aa_json_copy_str(json_array_get(arr, i), a, &out->elts[i]);
        if (rc != AA_OK) {
            return rc;
        }
    }

    out->nelts = n;

    return AA_OK;
}


static int
aa_json_get_int(json_t *obj, const char *key, int64_t *out)
{
    json_t  *v;

    v = json_object_get(obj, key);

    if (!json_is_integer(v)) {
        return AA_DECLINED;
    }

    *out = (int64_t) json_integer_value(v);

    return AA_OK;
}


int
aa_session_decode(const u_char *json, size_t len, aa_alloc_t *a,
    aa_session_t *s)
{
    int            rc;
    json_t        *root, *v;
    json_error_t   error;
    aa_session_t   r;

    if (len == 0 || len > AA_SESSION_MAX_JSON) {
        return AA_DECLINED;
    }

    root = json_loadb((const char *) json, len, JSON_REJECT_DUPLICATES,
                      &error);
    if (root == NULL) {
        return AA_DECLINED;
    }

    memset(&r, 0, sizeof(aa_session_t));
    rc = AA_DECLINED;

    if (!json_is_object(root)) {
        goto failed;
    }

    v = json_object_get(root, "v");
    if (!json_is_integer(v) || json_integer_value(v) != AA_SESSION_VERSION) {
        goto failed;
    }

    if ((rc = aa_json_get_str(root, "user", a, &r.user)) != AA_OK
        || (rc = aa_json_get_str(root, "email", a, &r.email)) != AA_OK
        || (rc = aa_json_get_str(root, "name", a, &r.name)) != AA_OK
        || (rc = aa_json_get_list(root, "groups", a, &r.groups)) != AA_OK
        || (rc = aa_json_get_list(root, "roles", a, &r.roles)) != AA_OK
        || (rc = aa_json_get_str(root, "idp", a, &r.idp)) != AA_OK
        || (rc = aa_json_get_str(root, "idp_type", a, &r.idp_type)) != AA_OK
        || (rc = aa_json_get_str(root, "sub", a, &r.sub)) != AA_OK
        || (rc = aa_json_get_str(root, "sid", a, &r.sid)) != AA_OK
        || (rc = aa_json_get_str(root, "id_token", a, &r.id_token)) != AA_OK
        || (rc = aa_json_get_int(root, "created", &r.created)) != AA_OK
        || (rc = aa_json_get_int(root, "expires", &r.expires)) != AA_OK
        || (rc = aa_json_get_int(root, "last_seen", &r.last_seen)) != AA_OK
        || (rc = aa_json_get_int(root, "idle_expires", &r.idle_expires))
           != AA_OK)
    {
        goto failed;
    }

    if (r.user.len == 0) {
        rc = AA_DECLINED;
        goto failed;
    }

    *s = r;
    rc = AA_OK;

failed:

    json_decref(root);

    return rc;
}


int
aa_session_check_time(const aa_session_t *s, int64_t now)
{
    if (now >= s->expires || now >= s->idle_expires) {
        return AA_DECLINED;
    }

    return AA_OK;
}


int
aa_session_needs_refresh(const aa_session_t *s, int64_t now,
    int64_t idle_timeout)
{
    int64_t  step;

    step = idle_timeout / 10;
    if (step < 1) {
        step = 1;
    }

    return now - s->last_seen >= step;
}


void
aa_session_touch(aa_session_t *s, int64_t now, int64_t idle_timeout)
{
    s->last_seen = now;
    s->idle_expires = now + idle_timeout;

    if (s->idle_expires > s->expires) {
        s->idle_expires = s->expires;
    }
}


int64_t
aa_session_ttl(const aa_session_t *s, int64_t now)
{
    int64_t  ttl;

    ttl = s->idle_expires - now;

    return ttl < 1 ? 1 : ttl;
}


int
aa_session_identity_json(const aa_session_t *s, aa_alloc_t *a,
    aa_str_t *out)
{
    int      rc;
    json_t  *obj;

    obj = json_object();
    if (obj == NULL) {
        return AA_ERROR;
    }

    rc = AA_ERROR;

    if (aa_json_set_str(obj, "user", &s->user) != AA_OK
        || aa_json_set_str(obj, "email", &s->email) != AA_OK
        || aa_json_set_str(obj, "name", &s->name) != AA_OK
        || aa_json_set_list(obj, "roles", &s->roles) != AA_OK
        || aa_json_set_list(obj, "groups", &s->groups) != AA_OK
        || aa_json_set_str(obj, "idp", &s->idp) != AA_OK
        || aa_json_set_str(obj, "idp_type", &s->idp_type) != AA_OK
        || aa_json_set_int(obj, "expires", s->expires) != AA_OK)
    {
        goto failed;
    }

    rc = aa_json_dump(obj, a, out);

failed:

    json_decref(obj);

    return rc;
}


int
aa_strlist_join(const aa_strlist_t *l, aa_alloc_t *a, aa_str_t *out)
{
    size_t   i, size;
    u_char  *p;

    size = 0;

    for (i = 0; i < l->nelts; i++) {
        size += l->elts[i].len + 1;
    }

    p = aa_alloc(a, size + 1);
    if (p == NULL) {
        return AA_ERROR;
    }

    out->data = p;

    for (i = 0; i < l->nelts; i++) {
        if (i) {
            *p++ = ',';
        }

        p += aa_header_clean(p, l->elts[i].data, l->elts[i].len);
    }

    *p = '\0';
    out->len = p - out->data;

    return AA_OK;
}


int
aa_strlist_split(const u_char *s, size_t len, aa_alloc_t *a,
    aa_strlist_t *out)
{
    size_t  i, n, b, e, stop;

    n = 1;

    for (i = 0; i < len; i++) {
        if (s[i] == ',') {
            n++;
        }
    }

    out->nelts = 0;
    out->elts = aa_alloc(a, n * sizeof(aa_str_t));
    if (out->elts == NULL) {
        return AA_ERROR;
    }

    for (b = 0; b <= len; b = e + 1) {

        for (e = b; e < len && s[e] != ','; e++) {
            /* void */
        }

        stop = e;

        while (b < stop && (s[b] == ' ' || s[b] == '\t')) {
            b++;
        }

        while (stop > b && (s[stop - 1] == ' ' || s[stop - 1] == '\t')) {
            stop--;
        }

        if (b == stop) {
            continue;
        }

        out->elts[out->nelts].data = aa_strdup(a, s + b, stop - b);
        if (out->elts[out->nelts].data == NULL) {
            return AA_ERROR;
        }

        out->elts[out->nelts].len = stop - b;
        out->nelts++;
    }

    return AA_OK;
}


int
aa_strlist_has(const aa_strlist_t *l, const u_char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < l->nelts; i++) {
        if (l->elts[i].len == len
            && (len == 0 || memcmp(l->elts[i].data, s, len) == 0))
        {
            return 1;
        }
    }

    return 0;
}
