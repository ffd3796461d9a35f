// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the ext4 KUnit fixture (kunit-fixture.c, kunit-mkfs.c):
 * the in-memory disk keeps what is written to it, the images ext4_kunit_mkfs()
 * makes mount through ext4's own checks with the space and inodes they claim,
 * and a small buffered write leaves exactly the reservations, counters and
 * extent status entries ext4 is known to produce, with and without delayed
 * allocation, journal and bigalloc.
 */

#include <kunit/ramdisk.h>
#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/percpu_counter.h>
#include <linux/quotaops.h>
#include <linux/slab.h>

#include "ext4.h"
#include "kunit-fixture.h"

/* File system shapes used below. */
#define FS_1K		.block_size = 1024, .blocks_count = 2048
#define FS_4K		.block_size = 4096, .blocks_count = 4096
/*
 * Bigalloc, 16 blocks a cluster, with 1024 clusters: ext4 stops delaying
 * allocation when fewer free clusters than EXT4_FREECLUSTERS_WATERMARK
 * (128 per possible CPU on SMP kernels) are left, so a file system of
 * only 128 or 256 clusters would not use delalloc on every machine.
 */
#define FS_1K_BIG	.block_size = 1024, .blocks_count = 16384, \
			.cluster_ratio = 16
#define FS_4K_BIG	.block_size = 4096, .blocks_count = 16384, \
			.cluster_ratio = 16
#define JOURNAL		.journal_blocks = 1024

static void fixture_fput_sync(struct file *file)
{
	fput(file);
	flush_delayed_fput();
}

/*
 * The ramdisk: its own dev_t and size, reads of never-written sectors give
 * zeroes, writes come back, and pages are allocated only where written.
 */
static void ramdisk_roundtrip_test(struct kunit *test)
{
	const size_t len = 3000, pos = 1536;
	struct gendisk *a, *b;
	struct file *bdev;
	loff_t off;
	u8 *wbuf, *rbuf;
	ssize_t ret;
	size_t i;

	a = kunit_ramdisk_create(test, 24);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	b = kunit_ramdisk_create(test, 8);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_EXPECT_NE(test, disk_devt(a), disk_devt(b));
	KUNIT_EXPECT_EQ(test, get_capacity(a), 24);
	KUNIT_EXPECT_EQ(test, get_capacity(b), 8);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_nr_pages(a), 0);

	wbuf = kunit_kmalloc(test, len, GFP_KERNEL);
	rbuf = kunit_kzalloc(test, 24 * SECTOR_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, wbuf);
	KUNIT_ASSERT_NOT_NULL(test, rbuf);
	for (i = 0; i < len; i++)
		wbuf[i] = i % 251 + 1;

	bdev = bdev_file_open_by_dev(disk_devt(a),
				     BLK_OPEN_READ | BLK_OPEN_WRITE, NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bdev);
	off = pos;
	ret = kernel_write(bdev, wbuf, len, &off);
	KUNIT_EXPECT_EQ(test, ret, len);
	KUNIT_EXPECT_EQ(test, vfs_fsync(bdev, 0), 0);
	fixture_fput_sync(bdev);

	/* 1536..4535 touches the first two pages of the disk. */
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_nr_pages(a),
			DIV_ROUND_UP(pos + len, PAGE_SIZE));

	/* Reopen: the page cache is gone, so this reads the disk. */
	bdev = bdev_file_open_by_dev(disk_devt(a), BLK_OPEN_READ, NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bdev);
	off = 0;
	ret = kernel_read(bdev, rbuf, 24 * SECTOR_SIZE + 512, &off);
	KUNIT_EXPECT_EQ(test, ret, 24 * SECTOR_SIZE);
	fixture_fput_sync(bdev);

	KUNIT_EXPECT_MEMEQ(test, rbuf + pos, wbuf, len);
	for (i = 0; i < 24 * SECTOR_SIZE; i++) {
		if (i >= pos && i < pos + len)
			continue;
		if (rbuf[i]) {
			KUNIT_FAIL(test, "byte %zu never written reads %#x",
				   i, rbuf[i]);
			break;
		}
	}
}

/* Completion of an asynchronous bio in ramdisk_rules_test. */
struct rd_bio {
	struct bio bio;
	struct bio_vec bvec;
	struct completion done;
	int err;
};

static void rd_bio_end(struct bio *bio)
{
	struct rd_bio *b = container_of(bio, struct rd_bio, bio);

	b->err = blk_status_to_errno(bio->bi_status);
	complete(&b->done);
}

static struct rd_bio *rd_bio_submit(struct kunit *test,
				    struct block_device *bdev, blk_opf_t opf,
				    sector_t sector, void *buf)
{
	struct rd_bio *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	init_completion(&b->done);
	bio_init(&b->bio, bdev, &b->bvec, 1, opf);
	b->bio.bi_iter.bi_sector = sector;
	bio_add_virt_nofail(&b->bio, buf, SECTOR_SIZE);
	b->bio.bi_end_io = rd_bio_end;
	submit_bio(&b->bio);
	return b;
}

/*
 * Rules: a write to a failing range fails exactly as often as the rule
 * says and stores nothing, a read of a failing range gets the chosen
 * status, held writes stay in flight (not completed, not stored) until
 * completed with success (stored) or an error (not stored), counting rules
 * count per range, the statistics add up, flushes and FUA reach the disk,
 * and bad rules are refused without changing anything.
 */
static void ramdisk_rules_test(struct kunit *test)
{
	struct kunit_ramdisk_rule fail_w = {
		.ops = KUNIT_RAMDISK_WRITE, .sector = 8, .nr_sectors = 8,
		.action = KUNIT_RAMDISK_FAIL, .status = BLK_STS_MEDIUM,
		.times = 2,
	};
	struct kunit_ramdisk_rule fail_r = {
		.ops = KUNIT_RAMDISK_READ, .sector = 20, .nr_sectors = 1,
		.action = KUNIT_RAMDISK_FAIL, .status = BLK_STS_IOERR,
	};
	struct kunit_ramdisk_rule hold = {
		.ops = KUNIT_RAMDISK_WRITE, .sector = 30, .nr_sectors = 2,
		.action = KUNIT_RAMDISK_HOLD,
	};
	struct kunit_ramdisk_rule count = {
		.ops = KUNIT_RAMDISK_READ | KUNIT_RAMDISK_WRITE,
		.sector = 0, .nr_sectors = 32, .action = KUNIT_RAMDISK_COUNT,
	};
	struct kunit_ramdisk_rule bad;
	struct kunit_ramdisk_stats st;
	struct block_device *bdev;
	struct rd_bio *a, *b;
	struct gendisk *disk;
	struct file *file;
	int id_w, id_r, id_h, id_c;
	u8 *buf, *rbuf;

	disk = kunit_ramdisk_create(test, 40);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, disk);
	buf = kunit_kmalloc(test, SECTOR_SIZE, GFP_KERNEL);
	rbuf = kunit_kmalloc(test, SECTOR_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, rbuf);
	file = bdev_file_open_by_dev(disk_devt(disk),
				     BLK_OPEN_READ | BLK_OPEN_WRITE, NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	bdev = file_bdev(file);

	/* Bad rules: refused, and no rule slot is taken. */
	bad = fail_w;
	bad.status = BLK_STS_OK;
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_add_rule(disk, &bad), -EINVAL);
	bad = fail_w;
	bad.nr_sectors = 33;
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_add_rule(disk, &bad), -EINVAL);
	bad = fail_w;
	bad.ops = 0;
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_add_rule(disk, &bad), -EINVAL);
	bad = fail_w;
	bad.nr_sectors = 0;
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_add_rule(disk, &bad), -EINVAL);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_rule_hits(disk, 0), -ENOENT);

	id_w = kunit_ramdisk_add_rule(disk, &fail_w);
	id_r = kunit_ramdisk_add_rule(disk, &fail_r);
	id_h = kunit_ramdisk_add_rule(disk, &hold);
	id_c = kunit_ramdisk_add_rule(disk, &count);
	KUNIT_ASSERT_GE(test, id_w, 0);
	KUNIT_ASSERT_GE(test, id_r, 0);
	KUNIT_ASSERT_GE(test, id_h, 0);
	KUNIT_ASSERT_GE(test, id_c, 0);

	/* Fails twice with the chosen status, then stores. */
	memset(buf, 0x11, SECTOR_SIZE);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 9, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), -ENODATA);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 15, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), -ENODATA);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_nr_pages(disk), 0);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 9, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), 0);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_rule_hits(disk, id_w), 2);
	/* Reads of the write rule's range are not affected. */
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 9, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), 0);
	KUNIT_EXPECT_MEMEQ(test, rbuf, buf, SECTOR_SIZE);
	/* Outside the range: fine; the read rule fails every time. */
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 19, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), 0);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 20, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), -EIO);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 20, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), -EIO);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_remove_rule(disk, id_r), 2);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 20, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), 0);

	/* Held: in flight until completed; success stores, an error not. */
	memset(buf, 0x22, SECTOR_SIZE);
	a = rd_bio_submit(test, bdev, REQ_OP_WRITE, 30, buf);
	b = rd_bio_submit(test, bdev, REQ_OP_WRITE | REQ_FUA, 31, buf);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_nr_held(disk), 2);
	KUNIT_EXPECT_FALSE(test, completion_done(&a->done));
	KUNIT_EXPECT_FALSE(test, completion_done(&b->done));
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 30, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(rbuf, 0, SECTOR_SIZE));
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_complete_held(disk, BLK_STS_OK), 2);
	KUNIT_EXPECT_TRUE(test, completion_done(&a->done));
	KUNIT_EXPECT_TRUE(test, completion_done(&b->done));
	KUNIT_EXPECT_EQ(test, a->err, 0);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 31, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), 0);
	KUNIT_EXPECT_MEMEQ(test, rbuf, buf, SECTOR_SIZE);

	memset(buf, 0x33, SECTOR_SIZE);
	a = rd_bio_submit(test, bdev, REQ_OP_WRITE, 30, buf);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_complete_held(disk, BLK_STS_IOERR),
			1);
	KUNIT_EXPECT_EQ(test, a->err, -EIO);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 30, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(rbuf, 0x22, SECTOR_SIZE));
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_remove_rule(disk, id_h), 3);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_nr_held(disk), 0);

	/* A flush reaches the disk. */
	KUNIT_EXPECT_EQ(test, blkdev_issue_flush(bdev), 0);

	/*
	 * The counting rule saw every bio of sectors 0-31: 3 + 1 writes at
	 * 9 and 15, 1 read at 9, 1 + 2 + 1 reads at 19 and 20, 2 held
	 * writes and 1 read, 1 read of 31, 1 held write and 1 read.
	 */
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_rule_hits(disk, id_c), 14);
	kunit_ramdisk_get_stats(disk, &st);
	KUNIT_EXPECT_EQ(test, st.writes, 6);
	KUNIT_EXPECT_EQ(test, st.reads, 8);
	KUNIT_EXPECT_EQ(test, st.read_sectors, 8);
	KUNIT_EXPECT_EQ(test, st.written_sectors, 3);
	KUNIT_EXPECT_EQ(test, st.failed, 5);
	KUNIT_EXPECT_EQ(test, st.fua, 1);
	KUNIT_EXPECT_EQ(test, st.flushes, 1);

	/* Fill: direct, not counted. */
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_fill(disk, 36, 5, 0xee), -EINVAL);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_fill(disk, 36, 4, 0xee), 0);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 39, rbuf, SECTOR_SIZE,
					   REQ_OP_READ), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(rbuf, 0xee, SECTOR_SIZE));
	fixture_fput_sync(file);
}

/*
 * Each of the first @n sectors of @disk must hold the byte @want[i] all
 * through (read through the block layer, from a fresh open).
 */
static void rd_expect_sectors(struct kunit *test, const char *what,
			      struct gendisk *disk, const u8 *want, int n)
{
	struct file *file;
	u8 *rbuf;
	int i;

	rbuf = kunit_kmalloc(test, SECTOR_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rbuf);
	file = bdev_file_open_by_dev(disk_devt(disk), BLK_OPEN_READ, NULL,
				     NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, bdev_rw_virt(file_bdev(file), i, rbuf,
						   SECTOR_SIZE, REQ_OP_READ),
				0);
		KUNIT_EXPECT_NULL_MSG(test, memchr_inv(rbuf, want[i],
						       SECTOR_SIZE),
				      "%s: sector %d: expected %#x, found %#x",
				      what, i, want[i], rbuf[0]);
	}
	fixture_fput_sync(file);
	kunit_kfree(test, rbuf);
}

/*
 * The write log: it starts from a copy of the disk, logs writes in the
 * order they complete (a held write when it is completed, a failed one
 * never) with their data and FUA, and flushes (empty or a write's
 * preflush) where they are submitted. A crash image has everything up to
 * the cut but the writes said to be lost; writes that a flush or FUA made
 * durable cannot be lost, and every bad call is refused with an error and
 * changes nothing.
 */
static void ramdisk_log_test(struct kunit *test)
{
	struct kunit_ramdisk_rule hold = {
		.ops = KUNIT_RAMDISK_WRITE, .sector = 4, .nr_sectors = 1,
		.action = KUNIT_RAMDISK_HOLD,
	};
	struct kunit_ramdisk_rule fail = {
		.ops = KUNIT_RAMDISK_WRITE, .sector = 6, .nr_sectors = 1,
		.action = KUNIT_RAMDISK_FAIL, .status = BLK_STS_IOERR,
	};
	/* What the log must hold: flush, FUA, sector, byte. */
	static const struct {
		bool flush, fua;
		sector_t sector;
		u8 byte;
	} want[] = {
		{ false, false, 1, 0xb1 },	/* 0 */
		{ true },			/* 1 */
		{ false, true, 2, 0xc2 },	/* 2 */
		{ false, false, 3, 0xd3 },	/* 3 */
		{ false, false, 5, 0xf5 },	/* 4: submitted after 5 */
		{ false, false, 4, 0xe4 },	/* 5: held until now */
		{ true },			/* 6: preflush of 7 */
		{ false, false, 1, 0x71 },	/* 7 */
	};
	static const u8 all[8] = { 0xaa, 0x71, 0xc2, 0xd3, 0xe4, 0xf5 };
	static const u8 cut4_lost3[8] = { 0xaa, 0xb1, 0xc2 };
	const struct kunit_ramdisk_log_entry *e;
	struct gendisk *disk, *image, *small;
	struct block_device *bdev;
	DECLARE_BITMAP(lost, 8);
	struct file *file;
	struct rd_bio *held;
	int i, id;
	u8 *buf;

	disk = kunit_ramdisk_create(test, 8);
	image = kunit_ramdisk_create(test, 8);
	small = kunit_ramdisk_create(test, 4);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, disk);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, image);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, small);
	buf = kunit_kmalloc(test, SECTOR_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	/* No log yet. */
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_log_len(disk), -ENOENT);
	KUNIT_EXPECT_NULL(test, kunit_ramdisk_log_entry(disk, 0));
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(image, disk, 0, NULL),
			-ENOENT);

	file = bdev_file_open_by_dev(disk_devt(disk),
				     BLK_OPEN_READ | BLK_OPEN_WRITE, NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	bdev = file_bdev(file);
	memset(buf, 0xaa, SECTOR_SIZE);
	KUNIT_ASSERT_EQ(test, bdev_rw_virt(bdev, 0, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), 0);

	KUNIT_ASSERT_EQ(test, kunit_ramdisk_log_start(disk), 0);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_log_start(disk), -EBUSY);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_log_len(disk), 0);
	id = kunit_ramdisk_add_rule(disk, &hold);
	KUNIT_ASSERT_GE(test, id, 0);
	KUNIT_ASSERT_GE(test, kunit_ramdisk_add_rule(disk, &fail), 0);

	memset(buf, 0xb1, SECTOR_SIZE);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 1, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), 0);
	KUNIT_EXPECT_EQ(test, blkdev_issue_flush(bdev), 0);
	memset(buf, 0xc2, SECTOR_SIZE);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 2, buf, SECTOR_SIZE,
					   REQ_OP_WRITE | REQ_FUA), 0);
	memset(buf, 0xd3, SECTOR_SIZE);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 3, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), 0);
	held = rd_bio_submit(test, bdev, REQ_OP_WRITE, 4,
			     memset(kunit_kmalloc(test, SECTOR_SIZE, GFP_KERNEL),
				    0xe4, SECTOR_SIZE));
	memset(buf, 0x66, SECTOR_SIZE);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 6, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), -EIO);
	memset(buf, 0xf5, SECTOR_SIZE);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 5, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), 0);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_log_len(disk), 5);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_complete_held(disk, BLK_STS_OK), 1);
	KUNIT_EXPECT_EQ(test, held->err, 0);
	kunit_ramdisk_remove_rule(disk, id);
	memset(buf, 0x71, SECTOR_SIZE);
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 1, buf, SECTOR_SIZE,
					   REQ_OP_WRITE | REQ_PREFLUSH), 0);
	kunit_ramdisk_log_stop(disk);
	/* Not logged any more. */
	KUNIT_EXPECT_EQ(test, bdev_rw_virt(bdev, 7, buf, SECTOR_SIZE,
					   REQ_OP_WRITE), 0);
	fixture_fput_sync(file);

	KUNIT_ASSERT_EQ(test, kunit_ramdisk_log_len(disk), ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		e = kunit_ramdisk_log_entry(disk, i);
		KUNIT_ASSERT_NOT_NULL(test, e);
		KUNIT_EXPECT_EQ_MSG(test, e->flush, want[i].flush, "entry %d", i);
		if (want[i].flush) {
			KUNIT_EXPECT_EQ_MSG(test, e->nr_sectors, 0, "entry %d", i);
			continue;
		}
		KUNIT_EXPECT_EQ_MSG(test, e->fua, want[i].fua, "entry %d", i);
		KUNIT_EXPECT_EQ_MSG(test, e->sector, want[i].sector, "entry %d", i);
		KUNIT_EXPECT_EQ_MSG(test, e->nr_sectors, 1, "entry %d", i);
		KUNIT_EXPECT_NULL_MSG(test, memchr_inv(e->data, want[i].byte,
						       SECTOR_SIZE),
				      "entry %d data", i);
	}
	KUNIT_EXPECT_NULL(test, kunit_ramdisk_log_entry(disk, ARRAY_SIZE(want)));

	/* The whole log; sector 6 was never stored, 7 after the log. */
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(image, disk, 8, NULL), 0);
	rd_expect_sectors(test, "all 8 entries", image, all, 8);

	/* Cut after 4, entry 3 lost: entries 0 and 2 are durable. */
	bitmap_zero(lost, 8);
	__set_bit(3, lost);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(image, disk, 4, lost), 0);
	rd_expect_sectors(test, "cut after 4, 3 lost", image, cut4_lost3, 8);

	/* Refused, and the image is as it was. */
	bitmap_zero(lost, 8);
	__set_bit(0, lost);	/* flushed by entry 1 */
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(image, disk, 4, lost),
			-EINVAL);
	bitmap_zero(lost, 8);
	__set_bit(2, lost);	/* FUA */
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(image, disk, 4, lost),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(image, disk, 9, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(disk, disk, 1, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(small, disk, 1, NULL),
			-EINVAL);
	file = bdev_file_open_by_dev(disk_devt(image), BLK_OPEN_READ, NULL,
				     NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, file);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_crash_image(image, disk, 8, NULL),
			-EBUSY);
	fixture_fput_sync(file);
	KUNIT_EXPECT_EQ(test, kunit_ramdisk_log_start(image), -EOPNOTSUPP);
	rd_expect_sectors(test, "after the refused calls", image, cut4_lost3, 8);
}

struct mount_case {
	const char *desc;
	struct ext4_kunit_mkfs_params mkfs;
	const char *opts;
	bool delalloc;
};

static const struct mount_case mount_cases[] = {
	{ "1k", { FS_1K }, NULL, true },
	{ "1k nodelalloc", { FS_1K }, "nodelalloc", false },
	{ "1k journal", { FS_1K, JOURNAL }, NULL, true },
	{ "1k journal journal_checksum", { FS_1K, JOURNAL },
	  "journal_checksum", true },
	{ "1k bigalloc journal", { FS_1K_BIG, JOURNAL }, "delalloc",
	  true },
	{ "1k 64bit r_blocks=100", { FS_1K, .feature_64bit = true,
	  .r_blocks_count = 100 }, NULL, true },
	{ "1k 3 groups", { .block_size = 1024, .blocks_count = 3 * 8192 + 1 },
	  NULL, true },
	{ "4k", { FS_4K }, "delalloc", true },
	{ "4k journal nodelalloc", { FS_4K, JOURNAL }, "nodelalloc", false },
	{ "1k fast_commit", { FS_1K, .journal_blocks = 1280,
	  .feature_fast_commit = true }, NULL, true },
	{ "4k fast_commit fc_blocks=6", { FS_4K, .journal_blocks = 1030,
	  .feature_fast_commit = true, .fc_blocks = 6 }, NULL, true },
	{ "4k bigalloc", { FS_4K_BIG }, NULL, true },
	{ "4k bigalloc journal nodelalloc", { FS_4K_BIG, JOURNAL },
	  "nodelalloc", false },
	{ "1k quota", { FS_1K, .feature_quota = true }, NULL, true },
	{ "4k quota journal nodelalloc", { FS_4K, JOURNAL,
	  .feature_quota = true }, "nodelalloc", false },
};

KUNIT_ARRAY_PARAM_DESC(mount, mount_cases, desc);

/*
 * A fresh image mounts, with the geometry it was made with, and ext4 counts
 * exactly the free clusters and inodes mkfs recorded.
 */
static void mount_fresh_test(struct kunit *test)
{
	const struct mount_case *c = test->param_value;
	const struct ext4_kunit_mkfs_params *p = &c->mkfs;
	unsigned int ratio = p->cluster_ratio ?: 1;
	struct ext4_kunit_fs *fs;
	struct ext4_sb_info *sbi;
	struct file *file;
	s64 free_inodes;

	if (p->feature_quota && !IS_ENABLED(CONFIG_QFMT_V2))
		kunit_skip(test, "the quota feature needs CONFIG_QFMT_V2");
	fs = ext4_kunit_fs_setup(test, p, c->opts);
	sbi = fs->sbi;

	KUNIT_EXPECT_EQ(test, fs->sb->s_blocksize, p->block_size);
	KUNIT_EXPECT_EQ(test, sbi->s_cluster_ratio, ratio);
	KUNIT_EXPECT_EQ(test, ext4_blocks_count(sbi->s_es), p->blocks_count);
	KUNIT_EXPECT_EQ(test, ext4_r_blocks_count(sbi->s_es),
			p->r_blocks_count);
	KUNIT_EXPECT_EQ(test, sbi->s_groups_count, fs->layout.groups);
	KUNIT_EXPECT_EQ(test, !!sbi->s_journal, !!p->journal_blocks);
	KUNIT_EXPECT_EQ(test, !!test_opt(fs->sb, DELALLOC), c->delalloc);
	KUNIT_EXPECT_EQ(test, !!ext4_has_feature_64bit(fs->sb),
			p->feature_64bit);
	/* Fast commits: the feature, and jbd2's area at the journal's end. */
	KUNIT_EXPECT_EQ(test, !!test_opt2(fs->sb, JOURNAL_FAST_COMMIT),
			p->feature_fast_commit);
	if (p->feature_fast_commit) {
		KUNIT_EXPECT_TRUE(test,
				  jbd2_has_feature_fast_commit(sbi->s_journal));
		KUNIT_EXPECT_EQ(test, sbi->s_journal->j_fc_last -
				sbi->s_journal->j_fc_first + 1,
				p->fc_blocks ?: JBD2_DEFAULT_FAST_COMMIT_BLOCKS);
	}
	KUNIT_EXPECT_EQ(test, sb_rdonly(fs->sb), false);

	KUNIT_EXPECT_EQ(test,
			percpu_counter_sum(&sbi->s_freeclusters_counter),
			fs->layout.free_clusters);
	KUNIT_EXPECT_EQ(test,
			percpu_counter_sum(&sbi->s_dirtyclusters_counter), 0);
	free_inodes = percpu_counter_sum(&sbi->s_freeinodes_counter);
	KUNIT_EXPECT_EQ(test, free_inodes, fs->layout.free_inodes);

	/* The first inode after lost+found (11) goes to the first new file. */
	file = ext4_kunit_create_file(test, fs->mnt, "f");
	KUNIT_EXPECT_EQ(test, file_inode(file)->i_ino, 12);
	KUNIT_EXPECT_EQ(test, percpu_counter_sum(&sbi->s_freeinodes_counter),
			free_inodes - 1);

	/*
	 * Quota: accounting on for users and groups from the mount on; root's
	 * structure was added to the empty quota files for the new file,
	 * the only inode charged (mkfs's own inodes never were).
	 */
	KUNIT_EXPECT_EQ(test, !!sb_has_quota_active(fs->sb, USRQUOTA),
			p->feature_quota);
	KUNIT_EXPECT_EQ(test, !!sb_has_quota_active(fs->sb, GRPQUOTA),
			p->feature_quota);
#ifdef CONFIG_QUOTA
	if (p->feature_quota) {
		struct dquot *dquot;

		dquot = dqget(fs->sb, make_kqid_uid(GLOBAL_ROOT_UID));
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dquot);
		KUNIT_EXPECT_EQ(test, dquot->dq_dqb.dqb_curinodes, 1);
		KUNIT_EXPECT_NE_MSG(test, dquot->dq_off, 0,
				    "root's structure has a place in the quota file");
		dqput(dquot);
	}
#endif
}

/*
 * One row: a 3000-byte write to a new file at offset 0, then the counters
 * and the extent status tree after write() and again after fsync(). Deltas
 * are from just before the write. The tree must hold exactly the file's
 * blocks, with the given status, and the hole from there to EXT_MAX_BLOCKS
 * that looking them up leaves cached.
 */
struct write_case {
	const char *desc;
	struct ext4_kunit_mkfs_params mkfs;
	const char *opts;
	ext4_lblk_t blocks;
	/* After write(). */
	unsigned int reserved;
	s64 dirty;
	s64 free;
	unsigned int status;
	/* After fsync(). */
	s64 synced_free;
	unsigned int synced_status;
};

#define DELAYED		EXTENT_STATUS_DELAYED
#define WRITTEN		EXTENT_STATUS_WRITTEN

static const struct write_case write_cases[] = {
	/*
	 * desc, mkfs, options, blocks,
	 *	write: reserved, dirty, free, status; fsync: free, status
	 */
	{ "1k delalloc", { FS_1K }, "delalloc", 3,
	  3, 3, 0, DELAYED, -3, WRITTEN },
	{ "1k delalloc journal", { FS_1K, JOURNAL }, "delalloc", 3,
	  3, 3, 0, DELAYED, -3, WRITTEN },
	{ "1k delalloc journal_checksum", { FS_1K, JOURNAL },
	  "delalloc,journal_checksum", 3,
	  3, 3, 0, DELAYED, -3, WRITTEN },
	{ "1k nodelalloc", { FS_1K }, "nodelalloc", 3,
	  0, 0, -3, WRITTEN, -3, WRITTEN },
	{ "1k bigalloc delalloc", { FS_1K_BIG }, "delalloc", 3,
	  1, 1, 0, DELAYED, -1, WRITTEN },
	{ "4k delalloc", { FS_4K }, "delalloc", 1,
	  1, 1, 0, DELAYED, -1, WRITTEN },
	{ "4k delalloc journal", { FS_4K, JOURNAL }, "delalloc", 1,
	  1, 1, 0, DELAYED, -1, WRITTEN },
	{ "4k nodelalloc journal", { FS_4K, JOURNAL }, "nodelalloc", 1,
	  0, 0, -1, WRITTEN, -1, WRITTEN },
	{ "4k bigalloc delalloc", { FS_4K_BIG }, "delalloc", 1,
	  1, 1, 0, DELAYED, -1, WRITTEN },
	{ "4k bigalloc delalloc journal", { FS_4K_BIG, JOURNAL },
	  "delalloc", 1,
	  1, 1, 0, DELAYED, -1, WRITTEN },
	{ "4k bigalloc nodelalloc", { FS_4K_BIG }, "nodelalloc", 1,
	  0, 0, -1, WRITTEN, -1, WRITTEN },
};

KUNIT_ARRAY_PARAM_DESC(write, write_cases, desc);

/* The file's first @blocks blocks with @status, then a hole to the end. */
static void expect_es(struct kunit *test, const char *what,
		      struct inode *inode, ext4_lblk_t blocks,
		      unsigned int status)
{
	const struct ext4_kunit_es es[] = {
		{
			.lblk = 0,
			.len = blocks,
			.pblk = status == DELAYED ? 0 : EXT4_KUNIT_ANY_PBLK,
			.status = status,
		}, {
			.lblk = blocks,
			.len = EXT_MAX_BLOCKS - blocks,
			.pblk = 0,
			.status = EXTENT_STATUS_HOLE,
		},
	};

	ext4_kunit_expect_es(test, what, inode, es, ARRAY_SIZE(es));
}

static void expect_counters(struct kunit *test, const char *when,
			    const struct ext4_kunit_counters *base,
			    const struct ext4_kunit_counters *now,
			    unsigned int reserved, s64 dirty, s64 free)
{
	KUNIT_EXPECT_EQ_MSG(test, now->reserved_data_blocks, reserved,
			    "i_reserved_data_blocks %s", when);
	KUNIT_EXPECT_EQ_MSG(test, now->dirty_clusters - base->dirty_clusters,
			    dirty, "dirty clusters delta %s", when);
	KUNIT_EXPECT_EQ_MSG(test, now->free_clusters - base->free_clusters,
			    free, "free clusters delta %s", when);
}

static void write_3000_bytes_test(struct kunit *test)
{
	const struct write_case *c = test->param_value;
	struct ext4_kunit_counters base, now;
	struct ext4_kunit_fs *fs;
	struct inode *inode;
	struct file *file;
	blkcnt_t sectors;
	loff_t pos = 0;
	ssize_t ret;
	char *buf;

	buf = kunit_kmalloc(test, 3000, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 'x', 3000);

	fs = ext4_kunit_fs_setup(test, &c->mkfs, c->opts);
	file = ext4_kunit_create_file(test, fs->mnt, "file");
	inode = file_inode(file);

	ext4_kunit_read_counters(inode, &base);
	KUNIT_EXPECT_EQ(test, base.reserved_data_blocks, 0);
	KUNIT_EXPECT_EQ(test, base.dirty_clusters, 0);

	ret = kernel_write(file, buf, 3000, &pos);
	KUNIT_ASSERT_EQ(test, ret, 3000);
	KUNIT_EXPECT_EQ(test, i_size_read(inode), 3000);

	ext4_kunit_read_counters(inode, &now);
	expect_counters(test, "after write", &base, &now, c->reserved,
			c->dirty, c->free);
	expect_es(test, "after write", inode, c->blocks, c->status);

	KUNIT_ASSERT_EQ(test, vfs_fsync(file, 0), 0);

	ext4_kunit_read_counters(inode, &now);
	expect_counters(test, "after fsync", &base, &now, 0, 0,
			c->synced_free);
	expect_es(test, "after fsync", inode, c->blocks,
		  c->synced_status);

	/* i_blocks counts the 512-byte sectors of whole clusters. */
	sectors = -c->synced_free * EXT4_C2B(fs->sbi, 1) *
		  (fs->sb->s_blocksize >> SECTOR_SHIFT);
	KUNIT_EXPECT_EQ_MSG(test, inode->i_blocks, sectors,
			    "i_blocks after fsync");
}

/* A copy from user memory that ends in a hole comes up short. */
static void user_buf_hole_test(struct kunit *test)
{
	static const struct ext4_kunit_mkfs_params p = { FS_1K };
	struct ext4_kunit_fs *fs;
	struct file *file;
	char __user *ubuf;
	char *data;
	ssize_t ret;

	data = kunit_kmalloc(test, 100, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	memset(data, 'u', 100);
	ubuf = ext4_kunit_user_buf(test, data, 100, PAGE_SIZE);

	fs = ext4_kunit_fs_setup(test, &p, "delalloc");
	file = ext4_kunit_create_file(test, fs->mnt, "short");

	/* 100 readable bytes of 3000 asked: 100 written. */
	ret = ext4_kunit_write_user(file, ubuf, 3000, 0);
	KUNIT_EXPECT_EQ(test, ret, 100);
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(file)), 100);

	/* Nothing readable: -EFAULT, size unchanged. */
	ret = ext4_kunit_write_user(file, ubuf + 100, 500, 100);
	KUNIT_EXPECT_EQ(test, ret, -EFAULT);
	KUNIT_EXPECT_EQ(test, i_size_read(file_inode(file)), 100);
}

/* What ext4 refuses must fail to mount, not mount with defaults. */
static void mount_bad_option_test(struct kunit *test)
{
	static const struct ext4_kunit_mkfs_params p = { FS_1K };
	struct ext4_kunit_layout layout;
	struct gendisk *disk;
	struct vfsmount *mnt;

	disk = kunit_ramdisk_create(test, 2048 * 2);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, disk);
	KUNIT_ASSERT_EQ(test, ext4_kunit_mkfs(test, disk_devt(disk), &p,
					      &layout), 0);

	mnt = ext4_kunit_mount(test, disk_devt(disk), "no_such_option");
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(mnt), -EINVAL);

	/* The failed attempt left the device free for a real mount. */
	mnt = ext4_kunit_mount(test, disk_devt(disk), "nodelalloc");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mnt);
	KUNIT_EXPECT_FALSE(test, test_opt(mnt->mnt_sb, DELALLOC));
}

/*
 * Parameters mkfs cannot honour are refused with -EINVAL, and the device is
 * left as it was: an image made before still mounts.
 */
static void mkfs_bad_params_test(struct kunit *test)
{
	static const struct ext4_kunit_mkfs_params good = { FS_1K };
	static const struct ext4_kunit_mkfs_params bad[] = {
		{ .block_size = 512, .blocks_count = 4096 },
		{ .block_size = 1024, .blocks_count = 2048, .cluster_ratio = 3 },
		{ FS_1K, .r_blocks_count = 2048 },
		{ FS_1K, .journal_blocks = 1000 },
		{ FS_1K, .journal_blocks = 1279, .feature_fast_commit = true },
		{ FS_1K, .journal_blocks = 1100, .fc_blocks = 8 },
		{ FS_1K, .journal_blocks = 1100, .feature_fast_commit = true,
		  .fc_blocks = 1 },
		{ FS_1K, .journal_blocks = 1100, .feature_fast_commit = true,
		  .fc_blocks = 80 },
	};
	struct ext4_kunit_layout layout;
	struct gendisk *disk;
	struct vfsmount *mnt;
	unsigned int i;

	disk = kunit_ramdisk_create(test, 2048 * 2);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, disk);
	KUNIT_ASSERT_EQ(test, ext4_kunit_mkfs(test, disk_devt(disk), &good,
					      &layout), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, ext4_kunit_mkfs(test, disk_devt(disk),
							  &bad[i], &layout),
				    -EINVAL, "parameters %u", i);

	mnt = ext4_kunit_mount(test, disk_devt(disk), NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mnt);
	KUNIT_EXPECT_EQ(test, mnt->mnt_sb->s_blocksize, 1024);
	KUNIT_EXPECT_EQ(test, ext4_blocks_count(EXT4_SB(mnt->mnt_sb)->s_es),
			2048);
	KUNIT_EXPECT_NULL(test, EXT4_SB(mnt->mnt_sb)->s_journal);
}

static struct kunit_case ext4_fixture_test_cases[] = {
	KUNIT_CASE(ramdisk_roundtrip_test),
	KUNIT_CASE(ramdisk_rules_test),
	KUNIT_CASE(ramdisk_log_test),
	KUNIT_CASE_PARAM(mount_fresh_test, mount_gen_params),
	KUNIT_CASE_PARAM(write_3000_bytes_test, write_gen_params),
	KUNIT_CASE(user_buf_hole_test),
	KUNIT_CASE(mount_bad_option_test),
	KUNIT_CASE(mkfs_bad_params_test),
	{}
};

static struct kunit_suite ext4_fixture_test_suite = {
	.name = "ext4_fixture",
	.test_cases = ext4_fixture_test_cases,
};

kunit_test_suites(&ext4_fixture_test_suite);

MODULE_DESCRIPTION("KUnit tests of the ext4 in-memory file system fixture");
MODULE_LICENSE("GPL");
