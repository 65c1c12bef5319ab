// src/store/sqlite/wal_gather_vfs.h
//
// A SQLite VFS that gathers a commit's WAL writes into one system call.
//
// When a transaction commits in WAL mode, SQLite appends every dirty page to the -wal file as
// a frame, and writes each frame as two calls: a 24-byte header, then the page. A group commit
// of a few dozen messages dirties about a hundred pages, so it cost some two hundred
// `pwrite`s before its `fdatasync`; on the ingest path they were the largest share of the
// writer's kernel time. This VFS wraps the default one and, for WAL files only, keeps
// contiguous writes in a buffer that goes out as one `pwrite` before anything that needs the
// bytes on disk or in the file: a sync, a read, a size query, a truncate, a close, a write
// elsewhere in the file, or a full buffer. (The unix VFS takes at most 128 KiB per call, so a
// large commit goes out as one write per ~30 frames.) Everything else is the default VFS's.
//
// Durability is the same as without it: a commit's frames reach the file before its sync,
// and SQLite publishes them to readers only after that sync returns. That last step relies on
// the sync, so open a connection through this VFS only with synchronous=FULL or EXTRA (with
// NORMAL, WAL commits do not sync and readers could look for frames still in the buffer).
//
//   RegisterWalGatherVfs();
//   sqlite3_open_v2(path, &db, flags, kWalGatherVfs);
#pragma once

#include <chrono>
#include <cstdint>

namespace parley::store::sqlite {

inline constexpr const char* kWalGatherVfs = "parley-wal-gather";

// Registers the VFS (not as the default) over SQLite's default VFS. Idempotent and
// thread-safe. Returns false when SQLite refused.
bool RegisterWalGatherVfs();

namespace internal {
// System-call counts of files opened through the VFS since start, for tests.
struct WalGatherCounts {
  uint64_t wal_writes = 0;   // xWrite calls SQLite made on WAL files
  uint64_t wal_flushes = 0;  // writes passed on to the default VFS for WAL files
};
WalGatherCounts WalGatherStats();
}  // namespace internal

// The time this thread spent syncing WAL files opened through the VFS since its last call,
// and starts over (the store's writer reads it around each COMMIT).
std::chrono::nanoseconds TakeWalSyncTime();

}  // namespace parley::store::sqlite
