/*
 * moss/port_registry.h - the per-user port registry: where a running
 * mossd says where it is, and where `mos` without --port looks
 * (mos-cli.md §2.1).  This path is the contract between the two programs,
 * so both get it from here.
 *
 * The directory is $XDG_RUNTIME_DIR/moss/ports when XDG_RUNTIME_DIR is set
 * and not empty, else ${TMPDIR:-/tmp}/moss-<uid>/ports (an empty TMPDIR
 * counts as unset).  In it each mossd keeps one file named after its
 * process id, holding "uart=<path>\n" and "http=<address>\n" lines;
 * writing and reading that file is the programs' business.
 *
 * Host-side: it reads the environment and creates directories, so it lives
 * in port/posix/ and a device port has no counterpart.
 */
#ifndef MOSS_PORT_REGISTRY_H
#define MOSS_PORT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

/* Write the registry directory's path into out (sz bytes, NUL-terminated).
 * With create (mossd), missing directories of the path below the base are
 * made, mode 0700; a failure there is not reported here but by the first
 * file written into it.  Without create (mos) the file system is not
 * touched.  Returns MOSS_OK, or MOSS_ERR_TOOBIG when the path does not fit
 * in sz bytes (out then holds a truncated path: do not use it). */
int moss_port_registry_dir(char *out, size_t sz, bool create);

#endif
