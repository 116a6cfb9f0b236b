/*
 * ngx_http_airflow_auth_module: browser single sign-on in front of the
 * Apache Airflow webserver.
 *
 * This file holds the directives, the configuration at each level, the
 * variables, and the hooks that put the phase handlers and the per-worker
 * Redis connection in place.  What the module does per request is in
 * ngx_http_airflow_auth_access.c.
 */

#include "ngx_http_airflow_auth_common.h"
#include "ngx_http_airflow_auth_access.h"
#include "ngx_http_airflow_auth_cache.h"
#include "ngx_http_airflow_auth_pages.h"
#include "ngx_http_airflow_auth_redis.h"
#include "ngx_http_airflow_auth_session.h"


#define NGX_HTTP_AIRFLOW_AUTH_SECRET_MAX  (64 * 1024)


static ngx_int_t ngx_http_airflow_auth_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_airflow_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_airflow_auth_init(ngx_conf_t *cf);
static void *ngx_http_airflow_auth_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_airflow_auth_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_airflow_auth_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_airflow_auth_merge_srv_conf(ngx_conf_t *cf,
    void *parent, void *child);
static void *ngx_http_airflow_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_airflow_auth_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_airflow_auth_enable(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_airflow_auth_redis_url(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_airflow_auth_secret_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_airflow_auth_roles_mapping(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_airflow_auth_default_role(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_airflow_auth_require_role(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_airflow_auth_session_cache(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_airflow_auth_read_file(ngx_conf_t *cf,
    ngx_str_t *name, size_t max, ngx_str_t *out, ngx_file_info_t *fi);
static void ngx_http_airflow_auth_wipe_keyring(void *data);
static void ngx_http_airflow_auth_free_roles(void *data);
static ngx_int_t ngx_http_airflow_auth_valid_cookie_name(ngx_str_t *name);
static ngx_int_t ngx_http_airflow_auth_init_process(ngx_cycle_t *cycle);
static void ngx_http_airflow_auth_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_airflow_auth_commands[] = {

    { ngx_string("airflow_auth"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_airflow_auth_enable,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airflow_auth_endpoint"),
      NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_airflow_auth_srv_conf_t, endpoint),
      NULL },

    { ngx_string("airflow_auth_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airflow_auth_redis_url,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airflow_auth_redis_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_airflow_auth_main_conf_t, prefix),
      NULL },

    { ngx_string("airflow_auth_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_airflow_auth_main_conf_t, redis_timeout),
      NULL },

    { ngx_string("airflow_auth_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airflow_auth_secret_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airflow_auth_cookie_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_airflow_auth_srv_conf_t, cookie_name),
      NULL },

    { ngx_string("airflow_auth_session_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_airflow_auth_main_conf_t, idle_timeout),
      NULL },

    { ngx_string("airflow_auth_session_max_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_airflow_auth_main_conf_t, max_lifetime),
      NULL },

    { ngx_string("airflow_auth_session_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airflow_auth_session_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airflow_auth_roles_mapping"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airflow_auth_roles_mapping,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airflow_auth_default_role"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_airflow_auth_default_role,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("airflow_auth_require_role"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_airflow_auth_require_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_airflow_auth_module_ctx = {
    ngx_http_airflow_auth_add_variables,    /* preconfiguration */
    ngx_http_airflow_auth_init,             /* postconfiguration */

    ngx_http_airflow_auth_create_main_conf, /* create main configuration */
    ngx_http_airflow_auth_init_main_conf,   /* init main configuration */

    ngx_http_airflow_auth_create_srv_conf,  /* create server configuration */
    ngx_http_airflow_auth_merge_srv_conf,   /* merge server configuration */

    ngx_http_airflow_auth_create_loc_conf,  /* create location configuration */
    ngx_http_airflow_auth_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_airflow_auth_module = {
    NGX_MODULE_V1,
    &ngx_http_airflow_auth_module_ctx,      /* module context */
    ngx_http_airflow_auth_commands,         /* module directives */
    NGX_HTTP_MODULE,                        /* module type */
    NULL,                                   /* init master */
    NULL,                                   /* init module */
    ngx_http_airflow_auth_init_process,     /* init process */
    NULL,                                   /* init thread */
    NULL,                                   /* exit thread */
    ngx_http_airflow_auth_exit_process,     /* exit process */
    NULL,                                   /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_airflow_auth_vars[] = {

    { ngx_string("airflow_auth_user"), NULL, ngx_http_airflow_auth_variable,
      NGX_HTTP_AIRFLOW_AUTH_VAR_USER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airflow_auth_email"), NULL, ngx_http_airflow_auth_variable,
      NGX_HTTP_AIRFLOW_AUTH_VAR_EMAIL, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airflow_auth_name"), NULL, ngx_http_airflow_auth_variable,
      NGX_HTTP_AIRFLOW_AUTH_VAR_NAME, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airflow_auth_roles"), NULL, ngx_http_airflow_auth_variable,
      NGX_HTTP_AIRFLOW_AUTH_VAR_ROLES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airflow_auth_groups"), NULL, ngx_http_airflow_auth_variable,
      NGX_HTTP_AIRFLOW_AUTH_VAR_GROUPS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("airflow_auth_idp"), NULL, ngx_http_airflow_auth_variable,
      NGX_HTTP_AIRFLOW_AUTH_VAR_IDP, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_int_t
ngx_http_airflow_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_airflow_auth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_airflow_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_airflow_auth_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_airflow_auth_module);

    if (ctx == NULL || !ctx->identity) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ctx->vars[data].data;
    v->len = ctx->vars[data].len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_airflow_auth_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_airflow_auth_post_read_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_airflow_auth_access_handler;

    return NGX_OK;
}


static void *
ngx_http_airflow_auth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_airflow_auth_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_airflow_auth_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->secret_file = { 0, NULL };
     *     amcf->keyring = NULL;
     *     amcf->redis_url = { 0, NULL };
     *     amcf->prefix = { 0, NULL };
     *     amcf->roles_map = NULL;
     *     amcf->default_role = { 0, NULL };
     *     amcf->used = 0;
     *     amcf->redis_client = NULL;
     */

    amcf->cache_size = NGX_CONF_UNSET_SIZE;
    amcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    amcf->idle_timeout = NGX_CONF_UNSET;
    amcf->max_lifetime = NGX_CONF_UNSET;

    return amcf;
}


static char *
ngx_http_airflow_auth_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_airflow_auth_main_conf_t  *amcf = conf;

    ngx_str_t  url = ngx_string("redis://127.0.0.1:6379/0");

    if (amcf->redis_url.len == 0
        && ngx_http_airflow_auth_redis_conf(cf, amcf, &url) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (amcf->prefix.data == NULL) {
        ngx_str_set(&amcf->prefix, "airflow_auth:");
    }

    ngx_conf_init_msec_value(amcf->redis_timeout, 2000);
    ngx_conf_init_value(amcf->idle_timeout, 30 * 60);
    ngx_conf_init_value(amcf->max_lifetime, 12 * 60 * 60);

    if (amcf->redis_timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_redis_timeout\" must be positive");
        return NGX_CONF_ERROR;
    }

    if (amcf->idle_timeout < 1 || amcf->max_lifetime < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_session_idle_timeout\" and "
                           "\"airflow_auth_session_max_lifetime\" must be "
                           "at least 1s");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_airflow_auth_pages_csp(cf, &amcf->csp) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (amcf->cache_size == NGX_CONF_UNSET_SIZE) {
        amcf->cache_size = 10 * 1024 * 1024;
    }

    if (amcf->used && amcf->cache_size) {
        return ngx_http_airflow_auth_cache_conf(cf, amcf);
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_airflow_auth_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_airflow_auth_srv_conf_t  *ascf;

    ascf = ngx_pcalloc(cf->pool, sizeof(ngx_http_airflow_auth_srv_conf_t));
    if (ascf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ascf->endpoint = { 0, NULL };
     *     ascf->cookie_name = { 0, NULL };
     *     ascf->used = 0;
     */

    return ascf;
}


static char *
ngx_http_airflow_auth_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_airflow_auth_srv_conf_t  *prev = parent;
    ngx_http_airflow_auth_srv_conf_t  *conf = child;

    u_char      *p;
    ngx_uint_t   i;

    ngx_conf_merge_str_value(conf->endpoint, prev->endpoint, "/_airflow_auth");
    ngx_conf_merge_str_value(conf->cookie_name, prev->cookie_name,
                             "airflow_auth");

    if (conf->endpoint.len < 2
        || conf->endpoint.data[0] != '/'
        || conf->endpoint.data[conf->endpoint.len - 1] == '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_endpoint\" must be a path such "
                           "as /_airflow_auth, not \"%V\"", &conf->endpoint);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < conf->endpoint.len; i++) {
        if (conf->endpoint.data[i] <= ' ' || conf->endpoint.data[i] == '?'
            || conf->endpoint.data[i] == '#' || conf->endpoint.data[i] >= 0x7f)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"airflow_auth_endpoint\" \"%V\" has a "
                               "character a path cannot hold",
                               &conf->endpoint);
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_airflow_auth_valid_cookie_name(&conf->cookie_name)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_cookie_name\" \"%V\" is not a "
                           "valid cookie name (letters, digits and "
                           "!#$%%&'*+-.^_`|~; no __Host- or __Secure- "
                           "prefix, which is added under TLS)",
                           &conf->cookie_name);
        return NGX_CONF_ERROR;
    }

    /* keep "__Host-" right in front, for the name used under TLS */
    p = ngx_pnalloc(cf->pool, sizeof("__Host-") - 1 + conf->cookie_name.len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(ngx_cpymem(p, "__Host-", sizeof("__Host-") - 1),
               conf->cookie_name.data, conf->cookie_name.len);
    conf->cookie_name.data = p + sizeof("__Host-") - 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_airflow_auth_valid_cookie_name(ngx_str_t *name)
{
    u_char      ch;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > 64
        || (name->len >= 2 && name->data[0] == '_' && name->data[1] == '_'))
    {
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        ch = name->data[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
            || (ch >= '0' && ch <= '9')
            || ngx_strchr("!#$%&'*+-.^_`|~", ch) != NULL)
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


static void *
ngx_http_airflow_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_airflow_auth_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_airflow_auth_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     alcf->provider = { 0, NULL };
     */

    alcf->enable = NGX_CONF_UNSET;
    alcf->require_roles = NGX_CONF_UNSET_PTR;

    return alcf;
}


static char *
ngx_http_airflow_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_airflow_auth_loc_conf_t  *prev = parent;
    ngx_http_airflow_auth_loc_conf_t  *conf = child;

    ngx_http_airflow_auth_main_conf_t  *amcf;

    if (conf->enable == NGX_CONF_UNSET) {
        conf->enable = prev->enable;
        conf->provider = prev->provider;
    }

    ngx_conf_init_value(conf->enable, 0);
    ngx_conf_merge_ptr_value(conf->require_roles, prev->require_roles, NULL);

    if (conf->enable != 1) {
        return NGX_CONF_OK;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_airflow_auth_module);

    if (amcf->keyring == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth\" is on but no "
                           "\"airflow_auth_secret_file\" is set in http{}");
        return NGX_CONF_ERROR;
    }

    if (conf->provider.len) {
        /* the providers come with the OIDC and SAML blocks */
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth %V\": no identity provider named "
                           "\"%V\" is configured", &conf->provider,
                           &conf->provider);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_airflow_auth_enable(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_airflow_auth_loc_conf_t  *alcf = conf;

    ngx_str_t                          *value;
    ngx_http_airflow_auth_srv_conf_t   *ascf;
    ngx_http_airflow_auth_main_conf_t  *amcf;

    if (alcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        alcf->enable = 0;
        return NGX_CONF_OK;
    }

    alcf->enable = 1;

    if (ngx_strcmp(value[1].data, "on") != 0) {
        alcf->provider = value[1];
    }

    /* the server strips client identity headers on all its locations */
    ascf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_airflow_auth_module);
    ascf->used = 1;

    amcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_airflow_auth_module);
    amcf->used = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_airflow_auth_redis_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airflow_auth_main_conf_t  *amcf = conf;

    ngx_str_t  *value;

    if (amcf->redis_url.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_http_airflow_auth_redis_conf(cf, amcf, &value[1]);
}


static char *
ngx_http_airflow_auth_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airflow_auth_main_conf_t  *amcf = conf;

    char                 err[256];
    ngx_str_t           *value, text;
    aa_keyring_t        *kr;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (amcf->keyring) {
        return "is duplicate";
    }

    value = cf->args->elts;
    amcf->secret_file = value[1];

    if (ngx_http_airflow_auth_read_file(cf, &amcf->secret_file,
                                        NGX_HTTP_AIRFLOW_AUTH_SECRET_MAX,
                                        &text, &fi)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_file_access(&fi) & 0007) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"airflow_auth_secret_file\" \"%V\" can be read "
                           "by other users: chmod o-rwx it",
                           &amcf->secret_file);
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(aa_keyring_t));
    if (cln == NULL) {
        ngx_explicit_memzero(text.data, text.len);
        return NGX_CONF_ERROR;
    }

    kr = cln->data;
    ngx_memzero(kr, sizeof(aa_keyring_t));
    cln->handler = ngx_http_airflow_auth_wipe_keyring;

    if (aa_keyring_load(kr, text.data, text.len, err, sizeof(err)) != AA_OK) {
        ngx_explicit_memzero(text.data, text.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_secret_file\" \"%V\": %s",
                           &amcf->secret_file, err);
        return NGX_CONF_ERROR;
    }

    ngx_explicit_memzero(text.data, text.len);
    amcf->keyring = kr;

    return NGX_CONF_OK;
}


static void
ngx_http_airflow_auth_wipe_keyring(void *data)
{
    aa_keyring_wipe(data);
}


static char *
ngx_http_airflow_auth_roles_mapping(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airflow_auth_main_conf_t  *amcf = conf;

    char                 err[512];
    ngx_str_t           *value, text;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (amcf->roles_map) {
        return "is duplicate";
    }

    value = cf->args->elts;
    amcf->roles_mapping = value[1];

    if (ngx_http_airflow_auth_read_file(cf, &amcf->roles_mapping,
                                        AA_ROLES_MAX_FILE, &text, &fi)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    if (aa_roles_map_parse(text.data, text.len, &amcf->roles_map, err,
                           sizeof(err))
        != AA_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_roles_mapping\" \"%V\": %s",
                           &amcf->roles_mapping, err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_airflow_auth_free_roles;
    cln->data = amcf->roles_map;

    return NGX_CONF_OK;
}


static void
ngx_http_airflow_auth_free_roles(void *data)
{
    aa_roles_map_free(data);
}


static char *
ngx_http_airflow_auth_default_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airflow_auth_main_conf_t  *amcf = conf;

    ngx_str_t  *value;

    if (amcf->default_role.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "none") == 0) {
        ngx_str_set(&amcf->default_role, "");
        return NGX_CONF_OK;
    }

    if (!aa_role_name_valid(value[1].data, value[1].len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_default_role\": \"%V\" is not a "
                           "valid role name", &value[1]);
        return NGX_CONF_ERROR;
    }

    amcf->default_role = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_airflow_auth_require_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airflow_auth_loc_conf_t  *alcf = conf;

    ngx_str_t   *value, *role;
    ngx_uint_t   i;

    if (alcf->require_roles != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    alcf->require_roles = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                           sizeof(ngx_str_t));
    if (alcf->require_roles == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (!aa_role_name_valid(value[i].data, value[i].len)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"airflow_auth_require_role\": \"%V\" is not "
                               "a valid role name", &value[i]);
            return NGX_CONF_ERROR;
        }

        role = ngx_array_push(alcf->require_roles);
        if (role == NULL) {
            return NGX_CONF_ERROR;
        }

        *role = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_airflow_auth_session_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_airflow_auth_main_conf_t  *amcf = conf;

    ssize_t     size;
    ngx_str_t  *value;

    if (amcf->cache_size != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        amcf->cache_size = 0;
        return NGX_CONF_OK;
    }

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"airflow_auth_session_cache\" takes \"off\" or "
                           "a size of at least %uzk, not \"%V\"",
                           8 * ngx_pagesize / 1024, &value[1]);
        return NGX_CONF_ERROR;
    }

    amcf->cache_size = (size_t) size;

    return NGX_CONF_OK;
}


/* Reads a whole configuration file; the caller wipes secrets from it. */
static ngx_int_t
ngx_http_airflow_auth_read_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *out, ngx_file_info_t *fi)
{
    ssize_t    n;
    ngx_fd_t   fd;
    ngx_str_t  full;
    char      *directive;

    directive = (char *) ((ngx_str_t *) cf->args->elts)[0].data;
    full = *name;

    if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    *name = full;

    fd = ngx_open_file(full.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\": cannot open \"%V\"", directive, &full);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR
        || !ngx_is_file(fi)
        || (size_t) ngx_file_size(fi) > max)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\": \"%V\" is not a regular file of at most "
                           "%uz bytes", directive, &full, max);
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    out->len = ngx_file_size(fi);
    out->data = ngx_pnalloc(cf->pool, out->len + 1);
    if (out->data == NULL) {
        (void) ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, out->data, out->len);

    (void) ngx_close_file(fd);

    if (n < 0 || (size_t) n != out->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%s\": cannot read \"%V\"", directive, &full);
        return NGX_ERROR;
    }

    out->data[out->len] = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_http_airflow_auth_init_process(ngx_cycle_t *cycle)
{
    ngx_http_airflow_auth_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airflow_auth_module);

    if (amcf == NULL || !amcf->used) {
        return NGX_OK;
    }

    amcf->redis_client = ngx_http_airflow_auth_redis_create(cycle, amcf);
    if (amcf->redis_client == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_airflow_auth_cache_init_process(amcf);
}


static void
ngx_http_airflow_auth_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_airflow_auth_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_airflow_auth_module);

    if (amcf && amcf->redis_client) {
        ngx_http_airflow_auth_redis_destroy(amcf->redis_client);
        amcf->redis_client = NULL;
    }
}
