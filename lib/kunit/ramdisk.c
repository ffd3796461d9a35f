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
 */

#include <kunit/ramdisk.h>
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/xarray.h>

struct kunit_ramdisk {
	struct xarray pages;
	atomic_long_t nr_pages;
	int id;
};

static DEFINE_IDA(kunit_ramdisk_ida);

/* Return the backing page of @sector, allocating it if @alloc is set. */
static struct page *kunit_ramdisk_page(struct kunit_ramdisk *rd,
				       sector_t sector, bool alloc)
{
	pgoff_t idx = sector >> PAGE_SECTORS_SHIFT;
	struct page *page, *old;

	page = xa_load(&rd->pages, idx);
	if (page || !alloc)
		return page;

	page = alloc_page(GFP_NOIO | __GFP_ZERO | __GFP_HIGHMEM);
	if (!page)
		return NULL;
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

static void kunit_ramdisk_submit_bio(struct bio *bio)
{
	struct kunit_ramdisk *rd = bio->bi_bdev->bd_disk->private_data;
	sector_t sector = bio->bi_iter.bi_sector;
	blk_status_t status = BLK_STS_OK;
	struct bvec_iter iter;
	struct bio_vec bv;
	bool write;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
		write = false;
		break;
	case REQ_OP_WRITE:
		write = true;
		break;
	default:
		bio->bi_status = BLK_STS_NOTSUPP;
		bio_endio(bio);
		return;
	}

	bio_for_each_segment(bv, bio, iter) {
		status = kunit_ramdisk_do_bvec(rd, &bv, sector, write);
		if (status)
			break;
		sector += bv.bv_len >> SECTOR_SHIFT;
	}
	bio->bi_status = status;
	bio_endio(bio);
}

static void kunit_ramdisk_free_disk(struct gendisk *disk)
{
	struct kunit_ramdisk *rd = disk->private_data;
	struct page *page;
	unsigned long idx;

	xa_for_each(&rd->pages, idx, page)
		__free_page(page);
	xa_destroy(&rd->pages);
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
 * result). It has no partitions, no volatile write cache and supports only
 * reads and writes. Open it with bdev_file_open_by_dev(); no device node is
 * needed. The disk is deleted by a KUnit cleanup action when @test ends; its
 * memory is freed when the last reference to it is dropped, so everything
 * that opened it must have closed it (or be about to) by then.
 *
 * Context: Process context; may sleep. Works for built-in tests that run
 * before the root filesystem is mounted.
 * Return: The gendisk on success, an ERR_PTR() on failure.
 */
struct gendisk *kunit_ramdisk_create(struct kunit *test, sector_t nr_sectors)
{
	struct queue_limits lim = {
		.features	= BLK_FEAT_SYNCHRONOUS,
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
