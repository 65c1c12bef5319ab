#include "store/sqlite/page_cache.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <new>

namespace parley::store::sqlite {

namespace {

// SQLite's lock-byte page: the page holding byte offset 1 GiB. It never holds data, and
// balance_nonroot() in btree.c uses its number as the temporary one when it reorders pages.
constexpr unsigned kPendingByte = 0x40000000;

const sqlite3_pcache_methods2* g_inner = nullptr;  // SQLite's own cache, set once
std::atomic<long> g_skipped{0};
std::atomic<long> g_passed{0};

struct Cache {
  sqlite3_pcache* inner;
  unsigned temporary_key;  // the lock-byte page's number for this page size
  unsigned max_key = 0;    // no page with a larger number is in the cache
};

Cache* Of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

void NoteKey(Cache& c, unsigned key) {
  if (key != c.temporary_key) c.max_key = std::max(c.max_key, key);
}

int Init(void* arg) { return g_inner->xInit ? g_inner->xInit(arg) : SQLITE_OK; }

void Shutdown(void* arg) {
  if (g_inner->xShutdown) g_inner->xShutdown(arg);
}

sqlite3_pcache* Create(int page_size, int extra_size, int purgeable) {
  sqlite3_pcache* inner = g_inner->xCreate(page_size, extra_size, purgeable);
  if (inner == nullptr) return nullptr;
  auto* c = static_cast<Cache*>(sqlite3_malloc(sizeof(Cache)));
  if (c == nullptr) {
    g_inner->xDestroy(inner);
    return nullptr;
  }
  unsigned size = page_size > 0 ? static_cast<unsigned>(page_size) : 1;
  new (c) Cache{inner, kPendingByte / size + 1};
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void Cachesize(sqlite3_pcache* p, int pages) { g_inner->xCachesize(Of(p)->inner, pages); }

int Pagecount(sqlite3_pcache* p) { return g_inner->xPagecount(Of(p)->inner); }

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache& c = *Of(p);
  sqlite3_pcache_page* page = g_inner->xFetch(c.inner, key, create);
  if (page != nullptr) NoteKey(c, key);
  return page;
}

void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  g_inner->xUnpin(Of(p)->inner, page, discard);
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache& c = *Of(p);
  g_inner->xRekey(c.inner, page, old_key, new_key);
  NoteKey(c, new_key);
}

void Truncate(sqlite3_pcache* p, unsigned limit) {
  Cache& c = *Of(p);
  if (limit > c.max_key) {  // nothing at or above `limit` can be cached
    g_skipped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_passed.fetch_add(1, std::memory_order_relaxed);
  g_inner->xTruncate(c.inner, limit);
  c.max_key = limit == 0 ? 0 : limit - 1;
}

void Destroy(sqlite3_pcache* p) {
  Cache* c = Of(p);
  g_inner->xDestroy(c->inner);
  c->~Cache();
  sqlite3_free(c);
}

void Shrink(sqlite3_pcache* p) {
  if (g_inner->xShrink) g_inner->xShrink(Of(p)->inner);
}

sqlite3_pcache_methods2 TrackingPageCache(const sqlite3_pcache_methods2* inner) {
  sqlite3_pcache_methods2 m{};
  m.iVersion = 1;
  m.pArg = inner->pArg;
  m.xInit = Init;
  m.xShutdown = Shutdown;
  m.xCreate = Create;
  m.xCachesize = Cachesize;
  m.xPagecount = Pagecount;
  m.xFetch = Fetch;
  m.xUnpin = Unpin;
  m.xRekey = Rekey;
  m.xTruncate = Truncate;
  m.xDestroy = Destroy;
  m.xShrink = Shrink;
  return m;
}

}  // namespace

namespace internal {
PageCacheCounts PageCacheTruncates() {
  return {g_skipped.load(std::memory_order_relaxed), g_passed.load(std::memory_order_relaxed)};
}
}  // namespace internal

bool InstallPageCache() {
  static bool installed = [] {
    static sqlite3_pcache_methods2 sqlite_own{};
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &sqlite_own) != SQLITE_OK) return false;
    g_inner = &sqlite_own;
    sqlite3_pcache_methods2 layer = TrackingPageCache(&sqlite_own);
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &layer) == SQLITE_OK;
  }();
  return installed;
}

}  // namespace parley::store::sqlite
