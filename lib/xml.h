/* SPDX-License-Identifier: MIT */
/* Just enough XML for AWS answers (STS, S3): the text of an element, and iteration over
 * repeated elements. No attributes, no namespaces, no CDATA: AWS sends none of them. */
#ifndef PARITY_XML_H
#define PARITY_XML_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The text of the first <tag>...</tag> in text[0..len), entities decoded (the five named ones
 * and &#N; / &#xH; as UTF-8), into dst (cap bytes, NUL-terminated). Returns 0, -1 when the
 * element is missing or an entity is malformed, -2 when the text does not fit.
 */
int xml_text(const char *text, size_t len, const char *tag, char *dst, size_t cap);

/*
 * Iterates over <tag>...</tag> elements: starting at *pos (0 first), finds the next one and sets
 * *inner / *inner_len to its content and *pos past it. Returns false when there are no more.
 */
bool xml_next(const char *text,
              size_t len,
              const char *tag,
              size_t *pos,
              const char **inner,
              size_t *inner_len);

#endif
