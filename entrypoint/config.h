/* SPDX-License-Identifier: MIT */
/* The runtime config, in layers where the later wins: the image config (/etc/parity/image.json,
 * or the file PARITY_IMAGE_CONFIG names: what the image's author decided, such as the command
 * each role runs) < the remote config (PARITY_CONFIG_URI: what the deployment decided) < the
 * environment twins (PARITY_TRAIN_COMMAND, PARITY_USER, ...). */
#ifndef PARITY_ENTRYPOINT_CONFIG_H
#define PARITY_ENTRYPOINT_CONFIG_H

#include "lib/envlist.h"
#include "lib/err.h"
#include "lib/jdoc.h"

#define CONFIG_IMAGE_PATH      "/etc/parity/image.json"
#define CONFIG_IMAGE_MAX_BYTES (256u * 1024)

enum config_role {
    CONFIG_ROLE_TRAIN = 0,
    CONFIG_ROLE_SERVE,
    CONFIG_ROLE_PROCESS,
};

#define CONFIG_FIELD_COUNT 9

/* The fields the config may hold, and their environment twins (NULL: none). */
extern const char *const config_fields[CONFIG_FIELD_COUNT];
extern const char *const config_field_vars[CONFIG_FIELD_COUNT];

enum config_layer {
    CONFIG_LAYER_NONE = 0,
    CONFIG_LAYER_IMAGE,
    CONFIG_LAYER_REMOTE,
};

/* A remote layer: the document PARITY_CONFIG_URI named, already fetched. */
struct config_remote {
    const char *uri;
    const char *text;
    size_t len;
};

struct image_config {
    char path[1024];       /* the file read, or "" when there was none */
    char remote_uri[1024]; /* the remote layer's URI, or "" */
    struct jdoc *doc;      /* the layers merged, or NULL when there are none */
    enum config_layer field_layer[CONFIG_FIELD_COUNT]; /* where each field was set */
    struct jdoc *commands[3];      /* per role: an owned array of strings, or NULL */
    const char *command_source[3]; /* "image.json" or the variable that set it */
};

/*
 * Reads the image config when it exists (a missing default file is fine; a missing file named by
 * PARITY_IMAGE_CONFIG is an error), lays the remote config (or NULL) over it field by field, then
 * applies PARITY_TRAIN_COMMAND / PARITY_SERVE_COMMAND / PARITY_PROCESS_COMMAND (JSON arrays),
 * which win over both.
 */
PARITY_MUST_CHECK int config_load_image(struct image_config *c,
                                        const struct envlist *env,
                                        const struct config_remote *remote,
                                        struct perr *err);

/* Where field i's value comes from: its environment twin's name when that is set, else
 * "image config FILE" / "remote config URI" (in buf), else NULL. */
const char *config_field_source(
    const struct image_config *c, const struct envlist *env, size_t i, char *buf, size_t buf_len);

void config_cleanup(struct image_config *c);

#endif
