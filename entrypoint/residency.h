/* SPDX-License-Identifier: MIT */
/* Keeping PID 1 small while it supervises. */
#pragma once

/*
 * Lets the kernel take back the pages of parity-init's own read-only segments (code and
 * constants) that booting touched. Booting runs code that supervising never needs again
 * (libseccomp, libcurl, JSON, the job spec); the pages supervising does use come back on their
 * first use, from the page cache. Best effort: failures are ignored.
 */
void residency_release_boot_pages(void);
