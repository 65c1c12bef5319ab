// src/store/sqlite/page_cache.h
//
// A thin layer over SQLite's own page cache that makes the end of every commit cheap.
//
// SQLite truncates the page cache to the database size at the end of each transaction. Its
// cache (pcache1) decides how to do that from the largest page number it has ever seen. When
// an insert splits B-tree pages, SQLite renumbers the new pages through a temporary number,
// the page of the 1 GiB "pending byte" (262145 for 4 KiB pages). That number stays the
// cache's largest, so the next truncate walks the whole hash table: every cached page, at
// every commit with a split. On the ingest path that was ~5 % of the process's CPU.
//
// This layer tracks the largest page number that can really be present (the temporary
// number is always renumbered away within the same split) and skips truncates that cannot
// remove anything. Everything else goes straight to SQLite's cache.
#pragma once

namespace parley::store::sqlite {

// Installs the layer for the process before SQLite initializes. Returns false, and changes
// nothing, when SQLite was already initialized (sqlite3_config refuses then). Idempotent.
bool InstallPageCache();

namespace internal {
// Truncates the layer skipped and passed on to SQLite, for tests.
struct PageCacheCounts {
  long skipped = 0;
  long passed = 0;
};
PageCacheCounts PageCacheTruncates();
}  // namespace internal

}  // namespace parley::store::sqlite
