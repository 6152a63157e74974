/*
 * moss/fs.h - moss's power-cut-safe flash filesystem.
 *
 * A log-structured filesystem over any struct moss_flash view (a partition
 * window, possibly under ESP32 flash encryption).  Flat namespace: a name
 * is 1..MOSS_FS_NAME_MAX bytes, any byte but NUL ('/' is an ordinary
 * character).  File data is stored unencoded, so a raw dump of an
 * unencrypted partition shows file contents.  docs/design/fs.md has the
 * on-flash format and the commit protocol.
 *
 * Atomicity: changes made through a writable handle become visible and
 * durable together at moss_fs_sync() or moss_fs_close(), by one small
 * commit record.  A power cut at any flash operation leaves every file
 * with its previous committed content or its new one, never a mix.
 * remove and rename (which may replace an existing destination) are
 * atomic the same way.  moss_fs_write_file() is an atomic whole-file
 * replace: the way configuration is saved.
 *
 * Lifecycle: moss_fs_format() once (writes a fresh, empty filesystem),
 * moss_fs_mount() -> handles, operations -> moss_fs_unmount().  The flash
 * view must outlive the mount.  Handles come from moss_fs_open() and are
 * freed by moss_fs_close() (even when it fails).  Single-threaded.
 *
 * Concurrency between handles: a file has at most one writable handle
 * (another open for writing is MOSS_ERR_BUSY); remove/rename of a file
 * with a writable handle is MOSS_ERR_BUSY.  A read-only handle always reads
 * the latest committed version (after a replace it sees the new content;
 * after a remove, reads fail with MOSS_ERR_NOENT).
 *
 * RAM (figures for the default 256 KB partition, 64 sectors): the mounted
 * filesystem allocates one block of about 18 bytes per sector + 16 bytes
 * per file slot (MOSS_FS_MAX_FILES) + an extent table of 8 bytes per entry
 * (min(sectors + 32, 96) entries) + a garbage-collection plan of 8 bytes
 * per 32 bytes of sector + 256 bytes of staging: 5448 bytes measured.  A
 * read-only handle is ~150 bytes; a writable one adds its extent table, a
 * 256-byte write buffer and a bit per entry (1212 bytes measured).  All of
 * it is allocated at mount/open (MOSS_SUB_FS); reads, writes, commits and
 * garbage collection allocate nothing.
 *
 * Capacity: moss_fs_info().total is what files (data plus a little
 * metadata each) may occupy: 254,000 bytes of a 256 KB partition.
 * moss_fs_info().free is the largest file that can still be created, in
 * data bytes: 248,728 on an empty 256 KB filesystem.  A file of that
 * size is accepted whether written in one piece or appended in pieces
 * (FS.Put chunks: 64 bytes to 8 KB measured); one written in one piece
 * may be up to ~2.8 KB bigger.  docs/design/fs.md, "Space", has the
 * allowances and the one known exception: an upload in small chunks
 * into free space scattered between long-lived small files can fall
 * short of it (by up to 0.5% measured).
 *
 * Errors common to all calls: MOSS_ERR_INVAL (bad argument or flags),
 * MOSS_ERR_NAMETOOLONG, MOSS_ERR_NOENT, MOSS_ERR_EXIST, MOSS_ERR_BUSY,
 * MOSS_ERR_NOSPC (filesystem full: nothing is changed or damaged),
 * MOSS_ERR_TOOBIG (file exceeds the per-file extent table even after
 * compaction), MOSS_ERR_CORRUPT (metadata failed a check), MOSS_ERR_NOMEM,
 * and any error of the flash layer (MOSS_ERR_FAULT on a power cut; the
 * mount should then be dropped and redone).
 */
#ifndef MOSS_FS_H
#define MOSS_FS_H

#include <stddef.h>
#include <stdint.h>

#include "moss/flash.h"

/* Longest name in bytes (without the NUL). */
#define MOSS_FS_NAME_MAX 64
/* Most files a mounted filesystem holds (RAM: 16 bytes each). */
#ifndef MOSS_FS_MAX_FILES
#define MOSS_FS_MAX_FILES 128
#endif
/* Smallest filesystem: 4 sectors. */
#define MOSS_FS_MIN_SECTORS 4

/* Open flags.  Exactly one of RDONLY, WRONLY, RDWR. */
#define MOSS_FS_O_RDONLY 0x00
#define MOSS_FS_O_WRONLY 0x01
#define MOSS_FS_O_RDWR 0x02
#define MOSS_FS_O_ACCMODE 0x03
#define MOSS_FS_O_CREAT 0x04  /* create if missing */
#define MOSS_FS_O_TRUNC 0x08  /* start from empty content */
#define MOSS_FS_O_APPEND 0x10 /* every write goes to the end */
#define MOSS_FS_O_EXCL 0x20   /* with CREAT: MOSS_ERR_EXIST if it exists */

#define MOSS_FS_SEEK_SET 0
#define MOSS_FS_SEEK_CUR 1
#define MOSS_FS_SEEK_END 2

struct moss_fs;      /* a mounted filesystem (opaque) */
struct moss_fs_file; /* an open handle (opaque) */

struct moss_fs_stat {
  char name[MOSS_FS_NAME_MAX + 1];
  uint32_t size;
};

struct moss_fs_info {
  uint32_t total; /* bytes of file data + metadata the FS can hold */
  uint32_t used;  /* charged to files (data, headers, commit records) */
  uint32_t free;  /* data bytes of the largest new file (see Capacity):
                     total - used minus that file's metadata; 0 when no
                     file slot is left */
  uint32_t files;
  uint32_t sectors, free_sectors;
};

/* Listing callback: st is valid during the call only.  Return 0 to go on,
 * anything else stops the listing (moss_fs_list then returns that). */
typedef int moss_fs_list_fn(void *arg, const struct moss_fs_stat *st);

/* Erase the whole view and write an empty filesystem.  The view's size
 * must be a multiple of erase_size with at least MOSS_FS_MIN_SECTORS
 * sectors; write_align a power of two <= 64. */
int moss_fs_format(const struct moss_flash *flash);

/* Mount: scan the log and build the in-RAM index.  Never writes.  Any
 * image is safe to mount: invalid records are ignored by CRC, a log that
 * contradicts itself gives MOSS_ERR_CORRUPT; no valid sector at all
 * (unformatted) gives MOSS_ERR_CORRUPT.  flash must outlive the mount. */
int moss_fs_mount(struct moss_fs **out, const struct moss_flash *flash);
/* NULL-safe.  Handles still open are discarded (uncommitted changes lost)
 * and freed: the caller's pointers to them become invalid. */
void moss_fs_unmount(struct moss_fs *fs);

/* name: NUL-terminated, borrowed for the call only. */
int moss_fs_open(struct moss_fs *fs, const char *name, int flags,
                 struct moss_fs_file **out);
/* Returns bytes read (0 at end of file) or <0. */
int moss_fs_read(struct moss_fs_file *f, void *buf, size_t len);
/* Returns bytes written (all of len unless an error) or <0.  Writing past
 * the end leaves a hole that reads as zeros.  Not durable until sync or
 * close. */
int moss_fs_write(struct moss_fs_file *f, const void *buf, size_t len);
/* Returns the new position or <0 (MOSS_ERR_INVAL for a negative one). */
int32_t moss_fs_seek(struct moss_fs_file *f, int32_t off, int whence);
uint32_t moss_fs_tell(const struct moss_fs_file *f);
/* Current logical size of the file as seen through this handle. */
uint32_t moss_fs_size(const struct moss_fs_file *f);
/* Shrink or extend (with zeros); writable handles only. */
int moss_fs_truncate(struct moss_fs_file *f, uint32_t size);
/* Commit: make everything written so far durable and visible, atomically.
 * A no-op for unchanged or read-only handles. */
int moss_fs_sync(struct moss_fs_file *f);
/* Commit (as sync) and free the handle, which is gone even on error. */
int moss_fs_close(struct moss_fs_file *f);
/* Free the handle dropping uncommitted changes.  NULL-safe. */
void moss_fs_discard(struct moss_fs_file *f);

int moss_fs_remove(struct moss_fs *fs, const char *name);
/* Atomic; replaces dst if it exists.  src == dst is a no-op. */
int moss_fs_rename(struct moss_fs *fs, const char *src, const char *dst);
int moss_fs_stat(struct moss_fs *fs, const char *name, struct moss_fs_stat *st);
/* Calls fn for every committed file, in no particular order.  Files must
 * not be created, removed or renamed from inside fn. */
int moss_fs_list(struct moss_fs *fs, moss_fs_list_fn *fn, void *arg);
int moss_fs_info(struct moss_fs *fs, struct moss_fs_info *info);

/* Atomic whole-file replace (create if missing). */
int moss_fs_write_file(struct moss_fs *fs, const char *name, const void *data,
                       size_t len);
/* Read a whole file into buf.  *len gets the file size; MOSS_ERR_TOOBIG if
 * it is larger than cap (buf then untouched). */
int moss_fs_read_file(struct moss_fs *fs, const char *name, void *buf,
                      size_t cap, size_t *len);

/* Consistency check (tests, diagnostics): every file's commit record and
 * data records re-read and CRC-checked, extents within valid records of
 * the right file, names unique, accounting consistent.  MOSS_OK or
 * MOSS_ERR_CORRUPT (or a flash error). */
int moss_fs_check(struct moss_fs *fs);

#endif
