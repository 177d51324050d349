/* SPDX-License-Identifier: MIT */
/* Dropping the boot-only pages of parity-init's read-only segments from its resident set. */
#include "entrypoint/residency.h"

#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * MADV_DONTNEED on a private file mapping that was never written drops only the page-table
 * entries: the next access maps the same file page again from the page cache. Writable
 * segments are left alone, since their pages may hold data that exists nowhere else.
 */
static int release_segments(struct dl_phdr_info *info, size_t size, void *data)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

    (void)size;
    (void)data;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
            continue;
        uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
        madvise((void *)start, end - start, MADV_DONTNEED);
    }
    return 1; /* the executable comes first; shared libraries (dynamic builds) are not ours */
}

void residency_release_boot_pages(void)
{
    dl_iterate_phdr(release_segments, NULL);
}
