#include "store/sqlite/wal_gather_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace parley::store::sqlite {

namespace {

// Largest buffer kept per WAL file; a commit with more frames goes out in several writes.
constexpr size_t kMaxBuffer = 4u << 20;
// The unix VFS writes at most 128 KiB - 1 bytes per call (it masks the length), so the
// buffer goes out in pieces of this size: still ~30 frames per system call.
constexpr size_t kMaxWrite = 124u << 10;

sqlite3_vfs* g_base = nullptr;
std::atomic<uint64_t> g_wal_writes{0};
std::atomic<uint64_t> g_wal_flushes{0};
// This thread's time in WAL syncs since TakeWalSyncTime last read it.
thread_local std::chrono::nanoseconds t_wal_sync{0};

// The file object SQLite allocates for us (szOsFile bytes): our part, then the default VFS's
// file, aligned.
struct GatherFile {
  sqlite3_file base;  // first: SQLite sees this; base.pMethods is kMethods
  sqlite3_file* real;
  bool gather;  // a WAL file: writes are buffered
  char* data;   // malloc'd buffer, `cap` bytes; null until the first buffered write
  size_t len;
  size_t cap;
  sqlite3_int64 offset;  // file offset of data[0]
};

constexpr size_t kRealOffset = (sizeof(GatherFile) + 15) & ~size_t{15};

GatherFile* Of(sqlite3_file* f) { return reinterpret_cast<GatherFile*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Of(f)->real; }

int Flush(GatherFile* f) {
  int rc = SQLITE_OK;
  for (size_t done = 0; done < f->len && rc == SQLITE_OK;) {
    size_t n = std::min(f->len - done, kMaxWrite);
    rc = f->real->pMethods->xWrite(f->real, f->data + done, static_cast<int>(n),
                                   f->offset + static_cast<sqlite3_int64>(done));
    done += n;
    g_wal_flushes.fetch_add(1, std::memory_order_relaxed);
  }
  f->len = 0;
  return rc;
}

int FlushOf(sqlite3_file* file) {
  GatherFile* f = Of(file);
  return f->gather ? Flush(f) : SQLITE_OK;
}

int Close(sqlite3_file* file) {
  GatherFile* f = Of(file);
  int flushed = FlushOf(file);
  int rc = f->real->pMethods->xClose(f->real);
  std::free(f->data);
  f->data = nullptr;
  f->cap = 0;
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* file, void* buf, int amt, sqlite3_int64 off) {
  if (int rc = FlushOf(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xRead(Real(file), buf, amt, off);
}

int Write(sqlite3_file* file, const void* buf, int amt, sqlite3_int64 off) {
  GatherFile* f = Of(file);
  if (!f->gather) return f->real->pMethods->xWrite(f->real, buf, amt, off);
  g_wal_writes.fetch_add(1, std::memory_order_relaxed);
  size_t n = static_cast<size_t>(amt);
  bool contiguous = f->len == 0 || off == f->offset + static_cast<sqlite3_int64>(f->len);
  if (!contiguous || f->len + n > kMaxBuffer) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (n > kMaxWrite) return f->real->pMethods->xWrite(f->real, buf, amt, off);
  if (f->len + n > f->cap) {
    size_t cap = f->cap ? f->cap : 64 * 1024;
    while (cap < f->len + n) cap *= 2;
    if (cap > kMaxBuffer) cap = kMaxBuffer;
    char* grown = static_cast<char*>(std::realloc(f->data, cap));
    if (grown == nullptr) {  // no memory for the buffer: write through
      if (int rc = Flush(f); rc != SQLITE_OK) return rc;
      return f->real->pMethods->xWrite(f->real, buf, amt, off);
    }
    f->data = grown;
    f->cap = cap;
  }
  if (f->len == 0) f->offset = off;
  std::memcpy(f->data + f->len, buf, n);
  f->len += n;
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (int rc = FlushOf(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xTruncate(Real(file), size);
}

int Sync(sqlite3_file* file, int flags) {
  GatherFile* f = Of(file);
  if (!f->gather) return f->real->pMethods->xSync(f->real, flags);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  auto start = std::chrono::steady_clock::now();
  int rc = f->real->pMethods->xSync(f->real, flags);
  t_wal_sync += std::chrono::steady_clock::now() - start;
  return rc;
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  if (int rc = FlushOf(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileSize(Real(file), size);
}

int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }

int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  if (int rc = FlushOf(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}

int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }

int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}

int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); }

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 off, int amt, void** out) {
  if (int rc = FlushOf(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFetch(Real(file), off, amt, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 off, void* p) {
  return Real(file)->pMethods->xUnfetch(Real(file), off, p);
}

// Version 3 (shared memory and memory mapping); used only over files whose own methods are
// version 3 too (the unix VFS's), see Open.
const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  GatherFile* f = Of(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  f->gather = (flags & SQLITE_OPEN_WAL) != 0;
  f->data = nullptr;
  f->len = f->cap = 0;
  f->offset = 0;
  int rc = g_base->xOpen(g_base, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods) f->real->pMethods->xClose(f->real);
    return rc;
  }
  if (f->real->pMethods->iVersion < 3) {
    f->real->pMethods->xClose(f->real);
    return SQLITE_CANTOPEN;  // the default VFS lacks methods this wrapper passes on
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

// The rest is the default VFS's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base->xDelete(g_base, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_base->xDlSym(g_base, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_base->xDlClose(g_base, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int Sleep(sqlite3_vfs*, int micros) { return g_base->xSleep(g_base, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) { return g_base->xGetLastError(g_base, n, out); }
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base->xCurrentTimeInt64(g_base, out);
}

}  // namespace

bool RegisterWalGatherVfs() {
  static const bool registered = [] {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (base == nullptr || base->iVersion < 2 || base->xCurrentTimeInt64 == nullptr) return false;
    g_base = base;
    static sqlite3_vfs vfs{};
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(kRealOffset) + base->szOsFile;
    vfs.mxPathname = base->mxPathname;
    vfs.zName = kWalGatherVfs;
    vfs.xOpen = Open;
    vfs.xDelete = Delete;
    vfs.xAccess = Access;
    vfs.xFullPathname = FullPathname;
    vfs.xDlOpen = DlOpen;
    vfs.xDlError = DlError;
    vfs.xDlSym = DlSym;
    vfs.xDlClose = DlClose;
    vfs.xRandomness = Randomness;
    vfs.xSleep = Sleep;
    vfs.xCurrentTime = CurrentTime;
    vfs.xGetLastError = GetLastError;
    vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
  }();
  return registered;
}

std::chrono::nanoseconds TakeWalSyncTime() { return std::exchange(t_wal_sync, {}); }

namespace internal {
WalGatherCounts WalGatherStats() {
  return {g_wal_writes.load(std::memory_order_relaxed),
          g_wal_flushes.load(std::memory_order_relaxed)};
}
}  // namespace internal

}  // namespace parley::store::sqlite
