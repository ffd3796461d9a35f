/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit in-memory block device.
 *
 * A small, page-backed block device that a test creates for itself, sized
 * for that test, with its own dev_t, and that goes away with the test. A
 * test can make it count, fail or hold in flight the I/O to a sector range,
 * and record the writes and flushes it completes, to build from them the
 * disk as a power cut could have left it (a crash image).
 */

#ifndef _KUNIT_RAMDISK_H
#define _KUNIT_RAMDISK_H

#include <linux/blk_types.h>
#include <linux/err.h>
#include <linux/types.h>

struct gendisk;
struct kunit;

/* Rules per disk. */
#define KUNIT_RAMDISK_MAX_RULES	8

/* Which bios a rule matches (struct kunit_ramdisk_rule.ops). */
#define KUNIT_RAMDISK_READ	BIT(0)
#define KUNIT_RAMDISK_WRITE	BIT(1)

/**
 * enum kunit_ramdisk_action - What a rule does with the bios it matches.
 * @KUNIT_RAMDISK_COUNT: Only count them.
 * @KUNIT_RAMDISK_FAIL: Complete them with the rule's status; a failed
 *	write stores nothing, a failed read fills nothing.
 * @KUNIT_RAMDISK_HOLD: Keep them in flight, neither carried out nor
 *	completed, until kunit_ramdisk_complete_held().
 */
enum kunit_ramdisk_action {
	KUNIT_RAMDISK_COUNT,
	KUNIT_RAMDISK_FAIL,
	KUNIT_RAMDISK_HOLD,
};

/**
 * struct kunit_ramdisk_rule - Which I/O a rule matches and what it does.
 * @ops: %KUNIT_RAMDISK_READ, %KUNIT_RAMDISK_WRITE or both.
 * @sector: First sector of the range; a bio matches if it touches the
 *	range at all.
 * @nr_sectors: Length of the range in sectors.
 * @action: What to do with a matching bio.
 * @status: For %KUNIT_RAMDISK_FAIL: the error, e.g. BLK_STS_IOERR.
 * @times: Fail or hold only this many bios, then stop; 0 for every bio
 *	until the rule is removed.
 */
struct kunit_ramdisk_rule {
	unsigned int ops;
	sector_t sector;
	sector_t nr_sectors;
	enum kunit_ramdisk_action action;
	blk_status_t status;
	unsigned int times;
};

/**
 * struct kunit_ramdisk_stats - What a ramdisk has seen.
 * @reads: Read bios.
 * @writes: Write bios with data.
 * @flushes: Cache flushes (empty flushes and writes with a preflush).
 * @fua: Write bios with FUA.
 * @failed: Bios completed with an error (by a rule, by
 *	kunit_ramdisk_complete_held() or for lack of memory).
 * @read_sectors: Sectors of the read bios.
 * @written_sectors: Sectors stored.
 */
struct kunit_ramdisk_stats {
	u64 reads;
	u64 writes;
	u64 flushes;
	u64 fua;
	u64 failed;
	u64 read_sectors;
	u64 written_sectors;
};

/**
 * struct kunit_ramdisk_log_entry - One entry of a ramdisk's write log.
 * @flush: A cache flush: an empty flush, or the preflush of a write (which
 *	then has an entry of its own right after this one).
 * @fua: A write with FUA: it was on stable storage when it completed.
 * @sector: First sector the write stored.
 * @nr_sectors: Number of sectors it stored; 0 for a flush.
 * @data: The @nr_sectors * 512 bytes it stored.
 */
struct kunit_ramdisk_log_entry {
	bool flush;
	bool fua;
	sector_t sector;
	unsigned int nr_sectors;
	void *data;
};

/* The most a write log holds; more fails the log with -E2BIG. */
#define KUNIT_RAMDISK_LOG_MAX_BYTES	(64 << 20)

#if IS_ENABLED(CONFIG_KUNIT_RAMDISK)
struct gendisk *kunit_ramdisk_create(struct kunit *test, sector_t nr_sectors);
unsigned long kunit_ramdisk_nr_pages(struct gendisk *disk);
int kunit_ramdisk_fill(struct gendisk *disk, sector_t sector,
		       sector_t nr_sectors, u8 byte);
int kunit_ramdisk_add_rule(struct gendisk *disk,
			   const struct kunit_ramdisk_rule *rule);
int kunit_ramdisk_remove_rule(struct gendisk *disk, int id);
int kunit_ramdisk_rule_hits(struct gendisk *disk, int id);
unsigned int kunit_ramdisk_nr_held(struct gendisk *disk);
unsigned int kunit_ramdisk_complete_held(struct gendisk *disk,
					 blk_status_t status);
void kunit_ramdisk_get_stats(struct gendisk *disk,
			     struct kunit_ramdisk_stats *stats);
int kunit_ramdisk_log_start(struct gendisk *disk);
void kunit_ramdisk_log_stop(struct gendisk *disk);
int kunit_ramdisk_log_len(struct gendisk *disk);
const struct kunit_ramdisk_log_entry *
kunit_ramdisk_log_entry(struct gendisk *disk, unsigned int i);
int kunit_ramdisk_crash_image(struct gendisk *image, struct gendisk *src,
			      unsigned int n, const unsigned long *lost);
#else
static inline struct gendisk *kunit_ramdisk_create(struct kunit *test,
						   sector_t nr_sectors)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline unsigned long kunit_ramdisk_nr_pages(struct gendisk *disk)
{
	return 0;
}
#endif

#endif /* _KUNIT_RAMDISK_H */
