// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit in-memory block device.
 *
 * Tests of block-based filesystems need a disk of their own: one that is
 * sized for the test case, starts out zeroed, does not depend on any driver
 * being configured, and disappears when the case ends. kunit_ramdisk_create()
 * gives a case such a disk. It gets a dynamic dev_t from the extended
 * block device number space, so it can be opened with
 * bdev_file_open_by_dev() without a device node; that matters because
 * built-in tests run before there is a root filesystem to hold one.
 *
 * The contents live in an xarray of pages, allocated on first write; sectors
 * that were never written read back as zeroes. Pages are only freed when the
 * gendisk itself is released, so the I/O path needs no reference counting.
 *
 * A test can also make the disk misbehave, deterministically: a rule
 * (kunit_ramdisk_add_rule()) matches reads and/or writes that touch a
 * sector range and either only counts them, fails them with a chosen
 * blk_status_t (once, N times, or until the rule is removed), or holds
 * them in flight: submitted but neither stored nor completed until the
 * test calls kunit_ramdisk_complete_held(), with success or an error.
 * kunit_ramdisk_get_stats() tells what the disk saw (reads, writes,
 * flushes, FUA writes, failures). The disk has a volatile write cache as
 * far as the block layer is concerned, so flushes and FUA reach it and are
 * counted; it has no cache of its own, every completed write is stored.
 *
 * For crash consistency tests the disk can also keep a write log
 * (kunit_ramdisk_log_start()): a copy of what it held when the log started,
 * then, in the order they completed, every write it stored (with its data
 * and whether it was FUA) and every flush. kunit_ramdisk_crash_image()
 * turns a second ramdisk into the disk as a power cut could have left it
 * after the first n entries: everything up to the last flush among them is
 * there, and so is every FUA write; each write after that flush is there
 * unless the caller says it was lost. That is the model of a disk with a
 * volatile write cache that a file system must survive, at the
 * granularity of whole bios (a bio is never torn). The image reads through
 * to the logging disk's copy for what the log did not change, so making
 * one costs only what the log wrote.
 */

#include <kunit/ramdisk.h>
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/bitops.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/xarray.h>

struct kunit_ramdisk_slot {
	struct kunit_ramdisk_rule rule;
	unsigned int hits;
	bool used;
	bool active;
};

struct kunit_ramdisk {
	struct xarray pages;
	atomic_long_t nr_pages;
	int id;
	struct kunit *test;
	/* Protects everything below. */
	spinlock_t lock;
	struct kunit_ramdisk_slot slots[KUNIT_RAMDISK_MAX_RULES];
	struct bio_list held;
	unsigned int nr_held;
	bool held_cleanup;
	struct kunit_ramdisk_stats stats;

	/* The write log: protects the fields below and @base. */
	struct mutex log_lock;
	bool log_started;
	bool logging;
	int log_err;
	struct kunit_ramdisk_log_entry **log;
	unsigned int log_len, log_cap;
	size_t log_bytes;
	/* The contents when the log started. */
	struct xarray base;
	/* Set on a crash image: the pages it has not written itself. */
	struct xarray *lower;
};

static DEFINE_IDA(kunit_ramdisk_ida);

/*
 * Return the backing page of @sector, allocating it if @alloc is set. A
 * crash image reads the logging disk's page where it has none of its own,
 * and copies it before its first write to it.
 */
static struct page *kunit_ramdisk_page(struct kunit_ramdisk *rd,
				       sector_t sector, bool alloc)
{
	pgoff_t idx = sector >> PAGE_SECTORS_SHIFT;
	struct page *page, *old, *lower;

	page = xa_load(&rd->pages, idx);
	if (page)
		return page;
	lower = rd->lower ? xa_load(rd->lower, idx) : NULL;
	if (!alloc)
		return lower;

	page = alloc_page(GFP_NOIO | __GFP_HIGHMEM | (lower ? 0 : __GFP_ZERO));
	if (!page)
		return NULL;
	if (lower)
		copy_highpage(page, lower);
	old = xa_cmpxchg(&rd->pages, idx, NULL, page, GFP_NOIO);
	if (xa_is_err(old)) {
		__free_page(page);
		return NULL;
	}
	if (old) {
		/* Somebody else filled the slot first: use theirs. */
		__free_page(page);
		return old;
	}
	atomic_long_inc(&rd->nr_pages);
	return page;
}

/* Copy one bio segment to or from the backing pages. */
static blk_status_t kunit_ramdisk_do_bvec(struct kunit_ramdisk *rd,
					  struct bio_vec *bv, sector_t sector,
					  bool write)
{
	unsigned int done = 0;

	while (done < bv->bv_len) {
		unsigned int off = (sector & (PAGE_SECTORS - 1)) << SECTOR_SHIFT;
		unsigned int len = min(bv->bv_len - done,
				       (unsigned int)PAGE_SIZE - off);
		struct page *page = kunit_ramdisk_page(rd, sector, write);
		void *buf = bvec_kmap_local(bv);

		if (write && !page) {
			kunmap_local(buf);
			return BLK_STS_RESOURCE;
		}
		if (write)
			memcpy_to_page(page, off, buf + done, len);
		else if (page)
			memcpy_from_page(buf + done, page, off, len);
		else
			memset(buf + done, 0, len);
		kunmap_local(buf);

		done += len;
		sector += len >> SECTOR_SHIFT;
	}
	return BLK_STS_OK;
}

/* Store or fetch the data of a read or write bio. */
static blk_status_t kunit_ramdisk_do_bio(struct kunit_ramdisk *rd,
					 struct bio *bio)
{
	sector_t sector = bio->bi_iter.bi_sector;
	bool write = op_is_write(bio_op(bio));
	blk_status_t status = BLK_STS_OK;
	struct bvec_iter iter;
	struct bio_vec bv;

	bio_for_each_segment(bv, bio, iter) {
		status = kunit_ramdisk_do_bvec(rd, &bv, sector, write);
		if (status)
			break;
		sector += bv.bv_len >> SECTOR_SHIFT;
	}
	return status;
}

/*
 * Apply the rules to a read or write bio: every active rule that matches
 * counts it, and the first active failing or holding rule decides what
 * happens to it. Called with rd->lock held.
 */
static enum kunit_ramdisk_action
kunit_ramdisk_match(struct kunit_ramdisk *rd, struct bio *bio,
		    blk_status_t *status)
{
	unsigned int op = op_is_write(bio_op(bio)) ? KUNIT_RAMDISK_WRITE :
						      KUNIT_RAMDISK_READ;
	sector_t start = bio->bi_iter.bi_sector;
	sector_t end = bio_end_sector(bio);
	enum kunit_ramdisk_action action = KUNIT_RAMDISK_COUNT;
	int i;

	for (i = 0; i < KUNIT_RAMDISK_MAX_RULES; i++) {
		struct kunit_ramdisk_slot *slot = &rd->slots[i];
		const struct kunit_ramdisk_rule *r = &slot->rule;

		if (!slot->active || !(r->ops & op) ||
		    end <= r->sector || start >= r->sector + r->nr_sectors)
			continue;
		slot->hits++;
		if (r->action == KUNIT_RAMDISK_COUNT ||
		    action != KUNIT_RAMDISK_COUNT)
			continue;
		action = r->action;
		*status = r->status;
		if (r->times && slot->hits >= r->times)
			slot->active = false;
	}
	return action;
}

/* Stop logging for good: the log missed an entry. */
static void kunit_ramdisk_log_fail(struct kunit_ramdisk *rd, int err)
{
	rd->log_err = err;
	rd->logging = false;
}

/*
 * Append a flush (@flush) or the write @bio, which has just been stored,
 * to the write log if there is one.
 */
static void kunit_ramdisk_log_add(struct kunit_ramdisk *rd, struct bio *bio,
				  bool flush)
{
	unsigned int len = flush ? 0 : bio->bi_iter.bi_size, off = 0;
	struct kunit_ramdisk_log_entry *e;
	struct bvec_iter iter;
	struct bio_vec bv;

	if (!READ_ONCE(rd->logging))
		return;
	mutex_lock(&rd->log_lock);
	if (!rd->logging)
		goto out;
	if (rd->log_bytes + len > KUNIT_RAMDISK_LOG_MAX_BYTES) {
		kunit_ramdisk_log_fail(rd, -E2BIG);
		goto out;
	}
	if (rd->log_len == rd->log_cap) {
		unsigned int cap = max(2 * rd->log_cap, 64U);
		struct kunit_ramdisk_log_entry **log;

		log = krealloc_array(rd->log, cap, sizeof(*log), GFP_NOIO);
		if (!log) {
			kunit_ramdisk_log_fail(rd, -ENOMEM);
			goto out;
		}
		rd->log = log;
		rd->log_cap = cap;
	}
	e = kzalloc(sizeof(*e), GFP_NOIO);
	if (e && len)
		e->data = kvmalloc(len, GFP_NOIO);
	if (!e || (len && !e->data)) {
		kfree(e);
		kunit_ramdisk_log_fail(rd, -ENOMEM);
		goto out;
	}
	e->flush = flush;
	if (!flush) {
		e->fua = bio->bi_opf & REQ_FUA;
		e->sector = bio->bi_iter.bi_sector;
		e->nr_sectors = bio_sectors(bio);
		bio_for_each_segment(bv, bio, iter) {
			memcpy_from_bvec(e->data + off, &bv);
			off += bv.bv_len;
		}
	}
	rd->log[rd->log_len++] = e;
	rd->log_bytes += len;
out:
	mutex_unlock(&rd->log_lock);
}

static void kunit_ramdisk_submit_bio(struct bio *bio)
{
	struct kunit_ramdisk *rd = bio->bi_bdev->bd_disk->private_data;
	enum kunit_ramdisk_action action = KUNIT_RAMDISK_COUNT;
	blk_status_t status = BLK_STS_OK;
	unsigned long flags;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_FLUSH:
		break;
	default:
		bio->bi_status = BLK_STS_NOTSUPP;
		bio_endio(bio);
		return;
	}

	/* Everything completed so far is on stable storage from now on. */
	if (bio->bi_opf & REQ_PREFLUSH || bio_op(bio) == REQ_OP_FLUSH)
		kunit_ramdisk_log_add(rd, bio, true);

	spin_lock_irqsave(&rd->lock, flags);
	if (bio->bi_opf & REQ_PREFLUSH || bio_op(bio) == REQ_OP_FLUSH)
		rd->stats.flushes++;
	if (bio_op(bio) == REQ_OP_READ) {
		rd->stats.reads++;
		rd->stats.read_sectors += bio_sectors(bio);
	} else if (bio_op(bio) == REQ_OP_WRITE && bio_sectors(bio)) {
		rd->stats.writes++;
		if (bio->bi_opf & REQ_FUA)
			rd->stats.fua++;
	}
	if (bio_sectors(bio))
		action = kunit_ramdisk_match(rd, bio, &status);
	if (action == KUNIT_RAMDISK_FAIL)
		rd->stats.failed++;
	if (action == KUNIT_RAMDISK_HOLD) {
		bio_list_add(&rd->held, bio);
		rd->nr_held++;
		spin_unlock_irqrestore(&rd->lock, flags);
		return;
	}
	spin_unlock_irqrestore(&rd->lock, flags);

	if (action != KUNIT_RAMDISK_FAIL && bio_sectors(bio))
		status = kunit_ramdisk_do_bio(rd, bio);
	if (!status && bio_op(bio) == REQ_OP_WRITE && bio_sectors(bio)) {
		kunit_ramdisk_log_add(rd, bio, false);
		spin_lock_irqsave(&rd->lock, flags);
		rd->stats.written_sectors += bio_sectors(bio);
		spin_unlock_irqrestore(&rd->lock, flags);
	}
	bio->bi_status = status;
	bio_endio(bio);
}

static void kunit_ramdisk_free_disk(struct gendisk *disk)
{
	struct kunit_ramdisk *rd = disk->private_data;
	struct page *page;
	unsigned long idx;

	unsigned int i;

	xa_for_each(&rd->pages, idx, page)
		__free_page(page);
	xa_destroy(&rd->pages);
	xa_for_each(&rd->base, idx, page)
		__free_page(page);
	xa_destroy(&rd->base);
	for (i = 0; i < rd->log_len; i++) {
		kvfree(rd->log[i]->data);
		kfree(rd->log[i]);
	}
	kfree(rd->log);
	ida_free(&kunit_ramdisk_ida, rd->id);
	kfree(rd);
}

static const struct block_device_operations kunit_ramdisk_fops = {
	.owner		= THIS_MODULE,
	.submit_bio	= kunit_ramdisk_submit_bio,
	.free_disk	= kunit_ramdisk_free_disk,
};

static void kunit_ramdisk_remove(void *data)
{
	struct gendisk *disk = data;

	/* Nothing may be left in flight when the disk goes away. */
	kunit_ramdisk_complete_held(disk, BLK_STS_IOERR);
	del_gendisk(disk);
	put_disk(disk);
}

/**
 * kunit_ramdisk_create() - Create an in-memory block device for a test.
 * @test: The test case the device belongs to.
 * @nr_sectors: Size of the device in 512-byte sectors.
 *
 * Creates and registers a zero-filled, page-backed disk named
 * "kunitram<N>" with a dynamically allocated dev_t (disk_devt() of the
 * result). It has no partitions and supports reads, writes and flushes;
 * it tells the block layer it has a volatile write cache and FUA so that
 * flushes and FUA writes reach it and are counted. Open it with
 * bdev_file_open_by_dev(); no device node is needed. The disk is deleted
 * by a KUnit cleanup action when @test ends; its memory is freed when the
 * last reference to it is dropped, so everything that opened it must have
 * closed it (or be about to) by then.
 *
 * Context: Process context; may sleep. Works for built-in tests that run
 * before the root filesystem is mounted.
 * Return: The gendisk on success, an ERR_PTR() on failure.
 */
struct gendisk *kunit_ramdisk_create(struct kunit *test, sector_t nr_sectors)
{
	struct queue_limits lim = {
		.features	= BLK_FEAT_SYNCHRONOUS | BLK_FEAT_WRITE_CACHE |
				  BLK_FEAT_FUA,
	};
	struct kunit_ramdisk *rd;
	struct gendisk *disk;
	int err;

	if (!nr_sectors)
		return ERR_PTR(-EINVAL);

	rd = kzalloc_obj(*rd);
	if (!rd)
		return ERR_PTR(-ENOMEM);
	xa_init(&rd->pages);
	xa_init(&rd->base);
	mutex_init(&rd->log_lock);
	spin_lock_init(&rd->lock);
	bio_list_init(&rd->held);
	rd->test = test;
	rd->id = ida_alloc(&kunit_ramdisk_ida, GFP_KERNEL);
	if (rd->id < 0) {
		err = rd->id;
		goto out_free_rd;
	}

	disk = blk_alloc_disk(&lim, NUMA_NO_NODE);
	if (IS_ERR(disk)) {
		err = PTR_ERR(disk);
		goto out_free_id;
	}
	/* major and minors left 0: add_disk() picks an extended dev_t. */
	disk->fops = &kunit_ramdisk_fops;
	disk->private_data = rd;
	disk->flags |= GENHD_FL_NO_PART;
	snprintf(disk->disk_name, DISK_NAME_LEN, "kunitram%d", rd->id);
	set_capacity(disk, nr_sectors);

	err = add_disk(disk);
	if (err) {
		/* Not added: ->free_disk() will not run, free by hand. */
		put_disk(disk);
		goto out_free_id;
	}

	err = kunit_add_action_or_reset(test, kunit_ramdisk_remove, disk);
	if (err)
		return ERR_PTR(err);
	return disk;

out_free_id:
	ida_free(&kunit_ramdisk_ida, rd->id);
out_free_rd:
	kfree(rd);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_create);

/**
 * kunit_ramdisk_nr_pages() - Number of backing pages a ramdisk has allocated.
 * @disk: A disk returned by kunit_ramdisk_create().
 *
 * Pages are allocated on the first write that touches them and never freed
 * before the disk is, so this tells how much of the disk was ever written.
 *
 * Return: The number of allocated backing pages.
 */
unsigned long kunit_ramdisk_nr_pages(struct gendisk *disk)
{
	struct kunit_ramdisk *rd = disk->private_data;

	return atomic_long_read(&rd->nr_pages);
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_nr_pages);

/**
 * kunit_ramdisk_fill() - Fill a sector range of a ramdisk with a byte.
 * @disk: A disk returned by kunit_ramdisk_create().
 * @sector: First sector.
 * @nr_sectors: Number of sectors.
 * @byte: The value every byte of the range gets.
 *
 * Writes the backing pages directly, bypassing the block layer, the rules
 * and the statistics, as if the disk had come with that content: e.g. a
 * pattern in the free space of a file system, so that a test can tell
 * stale blocks from zeroes. Nothing that caches the disk's content (the
 * block device's page cache, a file system's buffers) sees the change.
 *
 * Context: Process context; may sleep.
 * Return: 0, -EINVAL for a range beyond the disk, or -ENOMEM.
 */
int kunit_ramdisk_fill(struct gendisk *disk, sector_t sector,
		       sector_t nr_sectors, u8 byte)
{
	struct kunit_ramdisk *rd = disk->private_data;
	sector_t end = sector + nr_sectors;

	if (end < sector || end > get_capacity(disk))
		return -EINVAL;
	while (sector < end) {
		unsigned int off = (sector & (PAGE_SECTORS - 1)) << SECTOR_SHIFT;
		unsigned int len = min_t(sector_t, PAGE_SIZE - off,
					 (end - sector) << SECTOR_SHIFT);
		struct page *page = kunit_ramdisk_page(rd, sector, true);

		if (!page)
			return -ENOMEM;
		memset_page(page, off, byte, len);
		sector += len >> SECTOR_SHIFT;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_fill);

static void kunit_ramdisk_release_held(void *data)
{
	kunit_ramdisk_complete_held(data, BLK_STS_IOERR);
}

/**
 * kunit_ramdisk_add_rule() - Make a ramdisk count, fail or hold some I/O.
 * @disk: A disk returned by kunit_ramdisk_create().
 * @rule: What to match and what to do; copied.
 *
 * From now on every read or write bio (as @rule->ops says) that touches
 * at least one sector of [@rule->sector, @rule->sector + @rule->nr_sectors)
 * is counted by the rule (kunit_ramdisk_rule_hits()). A
 * %KUNIT_RAMDISK_FAIL rule completes it with @rule->status without
 * storing or reading any data; a %KUNIT_RAMDISK_HOLD rule keeps it in
 * flight until kunit_ramdisk_complete_held(). A rule with @rule->times
 * set stops failing or holding (and counting) after that many bios; with
 * 0 it stays until kunit_ramdisk_remove_rule(). When several failing or
 * holding rules match, the one added first decides. Flushes without data
 * match no rule.
 *
 * Held bios are completed with BLK_STS_IOERR by a cleanup action that
 * runs before those registered earlier, e.g. before the unmount of a file
 * system mounted before the rule was added, and when the disk is deleted.
 *
 * Context: Process context; may sleep.
 * Return: The rule's id (>= 0), -EINVAL for a rule that matches nothing,
 * a range beyond the disk, a failing rule with BLK_STS_OK, or -ENOSPC
 * when %KUNIT_RAMDISK_MAX_RULES rules exist.
 */
int kunit_ramdisk_add_rule(struct gendisk *disk,
			   const struct kunit_ramdisk_rule *rule)
{
	struct kunit_ramdisk *rd = disk->private_data;
	sector_t end = rule->sector + rule->nr_sectors;
	unsigned long flags;
	int i, err;

	if (!(rule->ops & (KUNIT_RAMDISK_READ | KUNIT_RAMDISK_WRITE)) ||
	    rule->ops & ~(KUNIT_RAMDISK_READ | KUNIT_RAMDISK_WRITE) ||
	    !rule->nr_sectors || end < rule->sector ||
	    end > get_capacity(disk))
		return -EINVAL;
	switch (rule->action) {
	case KUNIT_RAMDISK_COUNT:
		break;
	case KUNIT_RAMDISK_FAIL:
		if (rule->status == BLK_STS_OK)
			return -EINVAL;
		break;
	case KUNIT_RAMDISK_HOLD:
		if (rd->held_cleanup)
			break;
		err = kunit_add_action_or_reset(rd->test,
						kunit_ramdisk_release_held,
						disk);
		if (err)
			return err;
		rd->held_cleanup = true;
		break;
	default:
		return -EINVAL;
	}

	spin_lock_irqsave(&rd->lock, flags);
	for (i = 0; i < KUNIT_RAMDISK_MAX_RULES; i++) {
		struct kunit_ramdisk_slot *slot = &rd->slots[i];

		if (slot->used)
			continue;
		slot->rule = *rule;
		slot->hits = 0;
		slot->used = true;
		slot->active = true;
		break;
	}
	spin_unlock_irqrestore(&rd->lock, flags);
	return i < KUNIT_RAMDISK_MAX_RULES ? i : -ENOSPC;
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_add_rule);

static struct kunit_ramdisk_slot *kunit_ramdisk_slot(struct kunit_ramdisk *rd,
						     int id)
{
	if (id < 0 || id >= KUNIT_RAMDISK_MAX_RULES || !rd->slots[id].used)
		return NULL;
	return &rd->slots[id];
}

/* The hits of rule @id, which is then removed if @remove; or -ENOENT. */
static int kunit_ramdisk_rule_hits_remove(struct gendisk *disk, int id,
					  bool remove)
{
	struct kunit_ramdisk *rd = disk->private_data;
	struct kunit_ramdisk_slot *slot;
	unsigned long flags;
	int ret = -ENOENT;

	spin_lock_irqsave(&rd->lock, flags);
	slot = kunit_ramdisk_slot(rd, id);
	if (slot) {
		ret = slot->hits;
		if (remove)
			memset(slot, 0, sizeof(*slot));
	}
	spin_unlock_irqrestore(&rd->lock, flags);
	return ret;
}

/**
 * kunit_ramdisk_remove_rule() - Remove a rule.
 * @disk: The disk.
 * @id: What kunit_ramdisk_add_rule() returned.
 *
 * Bios the rule holds stay held.
 *
 * Return: The number of bios the rule matched, or -ENOENT.
 */
int kunit_ramdisk_remove_rule(struct gendisk *disk, int id)
{
	return kunit_ramdisk_rule_hits_remove(disk, id, true);
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_remove_rule);

/**
 * kunit_ramdisk_rule_hits() - How many bios a rule matched.
 * @disk: The disk.
 * @id: What kunit_ramdisk_add_rule() returned.
 *
 * Return: The count, or -ENOENT.
 */
int kunit_ramdisk_rule_hits(struct gendisk *disk, int id)
{
	return kunit_ramdisk_rule_hits_remove(disk, id, false);
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_rule_hits);

/**
 * kunit_ramdisk_nr_held() - Number of bios held in flight.
 * @disk: The disk.
 *
 * Return: The number of bios held by %KUNIT_RAMDISK_HOLD rules and not
 * completed yet.
 */
unsigned int kunit_ramdisk_nr_held(struct gendisk *disk)
{
	struct kunit_ramdisk *rd = disk->private_data;
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&rd->lock, flags);
	n = rd->nr_held;
	spin_unlock_irqrestore(&rd->lock, flags);
	return n;
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_nr_held);

/**
 * kunit_ramdisk_complete_held() - Complete the bios held in flight.
 * @disk: The disk.
 * @status: BLK_STS_OK to carry them out (writes are stored, reads filled)
 *	and complete them, or an error to complete them with, touching no
 *	data.
 *
 * Bios are completed in the order they were submitted, from the caller's
 * context; their ->bi_end_io runs before this returns (what it defers to
 * a workqueue may still be pending).
 *
 * Context: Process context; may sleep.
 * Return: The number of bios completed.
 */
unsigned int kunit_ramdisk_complete_held(struct gendisk *disk,
					 blk_status_t status)
{
	struct kunit_ramdisk *rd = disk->private_data;
	unsigned int n = 0;
	struct bio_list list;
	unsigned long flags;
	struct bio *bio;

	spin_lock_irqsave(&rd->lock, flags);
	list = rd->held;
	bio_list_init(&rd->held);
	rd->nr_held = 0;
	spin_unlock_irqrestore(&rd->lock, flags);

	while ((bio = bio_list_pop(&list))) {
		blk_status_t ret = status;

		if (ret == BLK_STS_OK)
			ret = kunit_ramdisk_do_bio(rd, bio);
		spin_lock_irqsave(&rd->lock, flags);
		if (ret)
			rd->stats.failed++;
		else if (op_is_write(bio_op(bio)))
			rd->stats.written_sectors += bio_sectors(bio);
		spin_unlock_irqrestore(&rd->lock, flags);
		if (!ret && op_is_write(bio_op(bio)))
			kunit_ramdisk_log_add(rd, bio, false);
		bio->bi_status = ret;
		bio_endio(bio);
		n++;
	}
	return n;
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_complete_held);

/**
 * kunit_ramdisk_get_stats() - What a ramdisk has seen so far.
 * @disk: The disk.
 * @stats: Filled in.
 */
void kunit_ramdisk_get_stats(struct gendisk *disk,
			     struct kunit_ramdisk_stats *stats)
{
	struct kunit_ramdisk *rd = disk->private_data;
	unsigned long flags;

	spin_lock_irqsave(&rd->lock, flags);
	*stats = rd->stats;
	spin_unlock_irqrestore(&rd->lock, flags);
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_get_stats);

/**
 * kunit_ramdisk_log_start() - Start a write log on a ramdisk.
 * @disk: A disk returned by kunit_ramdisk_create().
 *
 * Copies what the disk holds now, then logs, in the order they complete,
 * every write the disk stores (sectors, data, FUA) and every flush (an
 * empty flush or a write's preflush, logged when it is submitted: what
 * completed before it is on stable storage). Failed writes store nothing
 * and are not logged; held writes are logged when they complete. The log
 * stays until the disk is released. Call it while no write is in flight.
 *
 * Context: Process context; may sleep.
 * Return: 0, -EBUSY if the disk has had a log, -EOPNOTSUPP for a crash
 * image, or -ENOMEM.
 */
int kunit_ramdisk_log_start(struct gendisk *disk)
{
	struct kunit_ramdisk *rd = disk->private_data;
	struct page *page, *copy;
	unsigned long idx;
	int err = 0;

	if (rd->lower)
		return -EOPNOTSUPP;
	mutex_lock(&rd->log_lock);
	if (rd->log_started) {
		err = -EBUSY;
		goto out;
	}
	xa_for_each(&rd->pages, idx, page) {
		copy = alloc_page(GFP_NOIO | __GFP_HIGHMEM);
		if (!copy) {
			err = -ENOMEM;
			break;
		}
		copy_highpage(copy, page);
		err = xa_err(xa_store(&rd->base, idx, copy, GFP_NOIO));
		if (err) {
			__free_page(copy);
			break;
		}
	}
	if (err) {
		xa_for_each(&rd->base, idx, page)
			__free_page(page);
		xa_destroy(&rd->base);
		goto out;
	}
	rd->log_started = true;
	WRITE_ONCE(rd->logging, true);
out:
	mutex_unlock(&rd->log_lock);
	return err;
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_log_start);

/**
 * kunit_ramdisk_log_stop() - Stop adding to a ramdisk's write log.
 * @disk: The disk.
 *
 * The log keeps what it has; it cannot be started again.
 */
void kunit_ramdisk_log_stop(struct gendisk *disk)
{
	struct kunit_ramdisk *rd = disk->private_data;

	mutex_lock(&rd->log_lock);
	WRITE_ONCE(rd->logging, false);
	mutex_unlock(&rd->log_lock);
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_log_stop);

/**
 * kunit_ramdisk_log_len() - Number of entries in a ramdisk's write log.
 * @disk: The disk.
 *
 * Return: The number of entries, -ENOENT if the disk has no log, or the
 * error that made the log miss an entry (-ENOMEM, or -E2BIG past
 * %KUNIT_RAMDISK_LOG_MAX_BYTES of data).
 */
int kunit_ramdisk_log_len(struct gendisk *disk)
{
	struct kunit_ramdisk *rd = disk->private_data;
	int ret;

	mutex_lock(&rd->log_lock);
	if (!rd->log_started)
		ret = -ENOENT;
	else
		ret = rd->log_err ?: rd->log_len;
	mutex_unlock(&rd->log_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_log_len);

/**
 * kunit_ramdisk_log_entry() - One entry of a ramdisk's write log.
 * @disk: The disk.
 * @i: Its index, from 0.
 *
 * Return: The entry, valid until the disk is released; %NULL if there is
 * no such entry.
 */
const struct kunit_ramdisk_log_entry *
kunit_ramdisk_log_entry(struct gendisk *disk, unsigned int i)
{
	struct kunit_ramdisk *rd = disk->private_data;
	const struct kunit_ramdisk_log_entry *e = NULL;

	mutex_lock(&rd->log_lock);
	if (i < rd->log_len)
		e = rd->log[i];
	mutex_unlock(&rd->log_lock);
	return e;
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_log_entry);

/**
 * kunit_ramdisk_crash_image() - Make a disk what a power cut could leave.
 * @image: A ramdisk of the same size as @src, not open, with no log.
 * @src: A ramdisk with a write log.
 * @n: The cut: after the first @n entries of the log.
 * @lost: Bitmap of @n bits (or %NULL for none): the writes among the first
 *	@n entries that did not reach stable storage. Only a write that is
 *	neither FUA nor followed by a flush within the first @n entries can
 *	be lost.
 *
 * Throws away what @image held and gives it the contents of @src when its
 * log started with the first @n entries applied in order, except the
 * writes in @lost. A case calls it once per crash state it checks, with
 * the same @image, then mounts @image and checks what it finds. @image
 * reads through to @src's copy of the start of the log, so @src must not
 * be released before @image is.
 *
 * Context: Process context; may sleep.
 * Return: 0; -EINVAL for a bad @image, @n or @lost; -EBUSY if @image is
 * open or has a log; -ENOENT if @src has no log; the log's error if it
 * missed an entry; -ENOMEM. Nothing changes on an error but -ENOMEM.
 */
int kunit_ramdisk_crash_image(struct gendisk *image, struct gendisk *src,
			      unsigned int n, const unsigned long *lost)
{
	struct kunit_ramdisk *ir = image->private_data;
	struct kunit_ramdisk *sr = src->private_data;
	unsigned int i, first_volatile = 0;
	struct page *page;
	unsigned long idx;
	int err = 0;

	if (image == src || image->fops != &kunit_ramdisk_fops ||
	    get_capacity(image) != get_capacity(src))
		return -EINVAL;
	if (disk_openers(image) || ir->log_started)
		return -EBUSY;

	mutex_lock(&sr->log_lock);
	if (!sr->log_started) {
		err = -ENOENT;
		goto out;
	}
	if (sr->log_err) {
		err = sr->log_err;
		goto out;
	}
	if (n > sr->log_len) {
		err = -EINVAL;
		goto out;
	}
	for (i = n; i-- > 0;) {
		if (sr->log[i]->flush) {
			first_volatile = i + 1;
			break;
		}
	}
	if (lost) {
		for_each_set_bit(i, lost, n) {
			if (i < first_volatile || sr->log[i]->fua) {
				err = -EINVAL;
				goto out;
			}
		}
	}

	xa_for_each(&ir->pages, idx, page) {
		xa_erase(&ir->pages, idx);
		__free_page(page);
	}
	atomic_long_set(&ir->nr_pages, 0);
	ir->lower = &sr->base;

	for (i = 0; i < n && !err; i++) {
		const struct kunit_ramdisk_log_entry *e = sr->log[i];
		sector_t sector = e->sector;
		unsigned int done = 0, len = e->nr_sectors << SECTOR_SHIFT;

		if (e->flush || (lost && test_bit(i, lost)))
			continue;
		while (done < len) {
			unsigned int off = (sector & (PAGE_SECTORS - 1)) <<
					   SECTOR_SHIFT;
			unsigned int chunk = min(len - done,
						 (unsigned int)PAGE_SIZE - off);

			page = kunit_ramdisk_page(ir, sector, true);
			if (!page) {
				err = -ENOMEM;
				break;
			}
			memcpy_to_page(page, off, e->data + done, chunk);
			done += chunk;
			sector += chunk >> SECTOR_SHIFT;
		}
	}
out:
	mutex_unlock(&sr->log_lock);
	return err;
}
EXPORT_SYMBOL_GPL(kunit_ramdisk_crash_image);
