// SPDX-License-Identifier: GPL-2.0
/*
 * runas - run a command as another user, without any capability
 *
 * Usage: runas UID GID COMMAND [ARG...]
 *
 * Drops the supplementary groups, sets the group and user ids (real,
 * effective and saved) to GID and UID and executes COMMAND (a path).
 * Run by root, the command keeps no capability: what an unprivileged
 * owner of a file sees.  Busybox's setpriv cannot change ids, and the
 * e2e guest has no user database for su.  Exits 2 if it cannot.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uid_t uid;
	gid_t gid;

	if (argc < 4) {
		fprintf(stderr, "usage: runas UID GID COMMAND [ARG...]\n");
		return 2;
	}
	uid = strtoul(argv[1], NULL, 0);
	gid = strtoul(argv[2], NULL, 0);
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid)) {
		perror("runas");
		return 2;
	}
	execv(argv[3], argv + 3);
	perror(argv[3]);
	return 2;
}
