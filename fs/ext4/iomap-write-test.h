/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the suites of iomap-write-test.c, iomap-enospc-test.c,
 * iomap-error-test.c and iomap-race-test.c share: the file systems they
 * run on, the expected state written as data (extent status entries, the
 * state before a write, a context per case) and the helpers, defined in
 * iomap-write-test.c, that set a case up, drive the write ops and check
 * the whole state after each step. See iomap-write-test.c for what is
 * enforced.
 */
#ifndef _EXT4_IOMAP_WRITE_TEST_H
#define _EXT4_IOMAP_WRITE_TEST_H

#include <kunit/ramdisk.h>
#include <kunit/test.h>
#include <linux/falloc.h>
#include <linux/iomap.h>
#include <linux/sizes.h>

#include "ext4.h"
#include "kunit-fixture.h"

/* File systems, all mounted with buffered_iomap. */
struct iw_fs {
	struct ext4_kunit_mkfs_params mkfs;
	bool delalloc;
	const char *extra_opts;
};

/*
 * Expected extent status entries: [lblk, lblk + len) with a status; a
 * length of END means up to EXT_MAX_BLOCKS. Lists end at an entry with no
 * status.
 */
struct iw_es {
	ext4_lblk_t lblk;
	ext4_lblk_t len;
	unsigned int status;
};

#define END		0
#define DA(l, n)	{ (l), (n), EXTENT_STATUS_DELAYED }
#define UW(l, n)	{ (l), (n), EXTENT_STATUS_UNWRITTEN }
#define WR(l, n)	{ (l), (n), EXTENT_STATUS_WRITTEN }
#define HO(l, n)	{ (l), (n), EXTENT_STATUS_HOLE }
#define IW_MAX_ES	12

/*
 * What the file holds before the write, set up through the real paths in
 * this order: written and synced, then fallocated (unwritten), then
 * written and left dirty in the page cache (delayed on a delalloc mount),
 * then reserved by a delalloc ->iomap_begin whose copy has not happened
 * yet (as when a page fault that reserved blocks has not dirtied its
 * folio yet): delayed extents with no page cache.
 */
struct iw_start {
	loff_t synced_pos, synced_len;
	loff_t falloc_pos, falloc_len;
	loff_t dirty_pos, dirty_len;
	loff_t begun_pos, begun_len;
};

/**
 * struct iw_state - The state a case checks, as exact values.
 * @es: The whole extent status tree.
 * @reserved: i_reserved_data_blocks (clusters); the quota reservation
 *	must be as many clusters, in bytes.
 * @dirty: Delta of the dirty clusters counter from the baseline.
 * @free: Delta of the free clusters counter from the baseline.
 * @size: i_size.
 * @disksize: i_disksize.
 * @dirty_pages: Bit n set: the 4 KiB at n * 4 KiB of the file are in a
 *	dirty folio (units 0 to BITS_PER_LONG - 1 are checked); widened to
 *	whole pages where pages are larger (iw_page_units()).
 */
struct iw_state {
	const struct iw_es *es;
	unsigned int reserved;
	s64 dirty;
	s64 free;
	loff_t size;
	loff_t disksize;
	unsigned long dirty_pages;
};

/* What a case works on. */
struct iw_ctx {
	struct kunit *test;
	struct ext4_kunit_fs *fs;
	struct file *file;
	struct inode *inode;
	/* Counters before the start state and before the write. */
	struct ext4_kunit_counters zero, base;
	/* The mapping iw_replay_begin() hands back to iomap. */
	struct iomap replay;
	/* ext4_should_retry_alloc() stub: calls, and clusters to free. */
	int retry_calls;
	s64 retry_frees;
	char opts[64];
};

/* Bytes [start, end) of a file, all @val. */
struct iw_bytes {
	loff_t start, end;
	u8 val;
};

/*
 * Dirty page cache in 4 KiB units, whatever the page size: bit n is set
 * when byte n * 4 KiB of the file is in a dirty folio.  Expectations are
 * written in these units (PG(n)), as for 4 KiB pages; iw_page_units()
 * widens them to whole pages, since a folio is dirty or clean as a whole,
 * so that they hold on 16 KiB and 64 KiB pages too.
 */
#define IW_UNIT		SZ_4K
#define IW_NR_UNITS	BITS_PER_LONG

/* For iw_drive(): copy all that ->iomap_begin mapped. */
#define ALL_MAPPED	(-1)

#define KB(n)	((n) * 1024LL)
/* 4 KiB unit n of the file (page n with 4 KiB pages), see iw_dirty_units(). */
#define PG(n)	BIT(n)
/* 1k and 4k blocks in a page, for rows that hold for any page size. */
#define P1	((int)(PAGE_SIZE / SZ_1K))
#define P4	((int)(PAGE_SIZE / SZ_4K))

#define PUNCH	(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)

extern const struct iw_fs iw_fs_1k;
extern const struct iw_fs iw_fs_1k_nd;
extern const struct iw_fs iw_fs_4k;
extern const struct iw_fs iw_fs_4k_nd;
extern const struct iw_fs iw_fs_1k_big;
extern const struct iw_fs iw_fs_4k_big;
extern const struct iw_fs iw_fs_1k_jnl;
extern const struct iw_fs iw_fs_1k_jnl_nd;
extern const struct iw_fs iw_fs_4k_jnl;
extern const struct iw_fs iw_fs_4k_jnl_nd;
extern const struct iw_fs iw_fs_1k_jnl_quota_nd;
struct iw_ctx *iw_setup(struct kunit *test, const struct iw_fs *fs,
			const char *name);
void iw_write(struct kunit *test, struct file *file, loff_t pos,
	      loff_t len);
void iw_start(struct iw_ctx *c, const struct iw_start *s);
void iw_check(struct iw_ctx *c, const char *when,
	      const struct iw_state *st);
const struct iomap_ops *iw_ops(const struct iw_fs *fs);
int iw_drive_flags(struct iw_ctx *c, const struct iomap_ops *ops,
		   loff_t pos, loff_t len, loff_t copied,
		   unsigned int flags, struct iomap *iomap);
int iw_drive(struct iw_ctx *c, const struct iomap_ops *ops,
	     loff_t pos, loff_t len, loff_t copied, struct iomap *iomap);
void iw_cleanup_check(struct iw_ctx *c);
struct file *iw_open(struct iw_ctx *c, const char *name);
void iw_close(struct file *f);
unsigned long iw_mmap(struct iw_ctx *c, unsigned long len);
void iw_fill(struct iw_ctx *c, s64 headroom, s64 spare);
void iw_fill_stale(struct iw_ctx *c);
int iw_data_rule(struct iw_ctx *c, enum kunit_ramdisk_action action,
		 blk_status_t status);
void iw_check_disk_extents(struct iw_ctx *c, const char *when,
			   const struct iw_es *expected);
void iw_check_read_back_ranges(struct iw_ctx *c, const char *when,
			       const struct iw_bytes *data, int nr);
void iw_expect_bytes(struct iw_ctx *c, const char *when,
		     const struct iw_bytes *data, int nr);
void iw_check_read_back(struct iw_ctx *c, const char *when,
			loff_t data_start, loff_t data_end, u8 data);
void iw_check_counters(struct iw_ctx *c, const char *when,
		       unsigned int reserved, s64 dirty, s64 free);
void iw_expect_mapped(struct iw_ctx *c, const char *when,
		      const struct iw_es *want);
void iw_fs_desc(const struct iw_fs **fs, char *desc);

#endif /* _EXT4_IOMAP_WRITE_TEST_H */
