/* SPDX-License-Identifier: MIT */
/* The image config (/etc/parity/image.json, or the file PARITY_IMAGE_CONFIG names): what the
 * image's author decided, such as the command each role runs. */
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

struct image_config {
    char path[1024];               /* the file read, or "" when there was none */
    struct jdoc *doc;              /* the whole document, or NULL */
    struct jdoc *commands[3];      /* per role: an owned array of strings, or NULL */
    const char *command_source[3]; /* "image.json" or the variable that set it */
};

/*
 * Reads the image config when it exists (a missing default file is fine; a missing file named by
 * PARITY_IMAGE_CONFIG is an error), then applies PARITY_TRAIN_COMMAND / PARITY_SERVE_COMMAND /
 * PARITY_PROCESS_COMMAND (JSON arrays), which win over the file.
 */
PARITY_MUST_CHECK int
config_load_image(struct image_config *c, const struct envlist *env, struct perr *err);

void config_cleanup(struct image_config *c);

#endif
