#!/usr/bin/env python3
"""Which b-trees a store's commits write to the WAL, frame by frame.

Reads a copy of a SQLite WAL file and the database it belongs to, splits the WAL's valid
frames into commits, and attributes every frame to the table or index (and page type) that
owns its page, using SQLite's dbstat view on the database. Prints frames per commit for each,
most first. See bench/README.md ("Where the WAL goes").

    # during a run: copy the WAL, then (after the run) the database it was written for
    cp <data>/parley.db-wal /tmp/w && ... && cp <data>/parley.db /tmp/d
    python3 bench/wal_frames.py /tmp/d /tmp/w

Only the frames after the WAL's last restart count (those whose salts match the header); a
page allocated after the database copy was taken shows as "?". The database is opened
read-only and its own WAL is not read.
"""
import argparse
import collections
import sqlite3
import struct
import sys

WAL_MAGIC = (0x377F0682, 0x377F0683)
WAL_HEADER = 32
FRAME_HEADER = 24


def commits_of(wal):
    """The page numbers of each commit in the WAL's current generation."""
    if len(wal) < WAL_HEADER:
        raise ValueError("not a WAL file: shorter than its header")
    magic, _, page_size = struct.unpack(">III", wal[:12])
    if magic not in WAL_MAGIC:
        raise ValueError("not a WAL file: bad magic number")
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise ValueError("not a WAL file: bad page size %d" % page_size)
    salts = wal[16:24]
    commits, pages = [], []
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(wal):
        page, db_size = struct.unpack(">II", wal[offset:offset + 8])
        if wal[offset + 8:offset + 16] != salts:
            break  # a frame of an earlier generation: the current one ends here
        pages.append(page)
        if db_size:  # the commit frame
            commits.append(pages)
            pages = []
        offset += FRAME_HEADER + page_size
    return page_size, commits


def owners(db_path):
    """page number -> "name:pagetype", from dbstat."""
    db = sqlite3.connect("file:%s?mode=ro&immutable=1" % db_path, uri=True)
    try:
        rows = db.execute("SELECT pageno, name, pagetype FROM dbstat").fetchall()
    except sqlite3.OperationalError as e:
        raise ValueError("dbstat is not available in this SQLite: %s" % e)
    finally:
        db.close()
    return {page: "%s:%s" % (name, kind) for page, name, kind in rows}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("database")
    p.add_argument("wal")
    p.add_argument("--top", type=int, default=20, help="rows to print (default 20)")
    args = p.parse_args()
    try:
        with open(args.wal, "rb") as f:
            page_size, commits = commits_of(f.read())
        owner = owners(args.database)
    except (OSError, ValueError) as e:
        print("wal_frames.py: %s" % e, file=sys.stderr)
        return 1
    if not commits:
        print("wal_frames.py: no complete commit in the WAL's current generation",
              file=sys.stderr)
        return 1
    frames = sum(len(c) for c in commits)
    by_owner = collections.Counter(owner.get(page, "?") for c in commits for page in c)
    n = len(commits)
    print("%d commits, %d frames of %d bytes: %.1f frames (%.1f KiB) per commit" %
          (n, frames, page_size, frames / n, frames / n * (page_size + FRAME_HEADER) / 1024))
    print("%-48s %8s %7s" % ("b-tree:page type", "/commit", "share"))
    for name, count in by_owner.most_common(args.top):
        print("%-48s %8.2f %6.1f%%" % (name, count / n, 100.0 * count / frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
