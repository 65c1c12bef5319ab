// The SQLite store's WAL upkeep (sqlite_store.h): the writer's restarts of a long WAL and
// the checkpoint thread. Tests: sqlite_wal_test.cc.
#include <sqlite3.h>

#include <algorithm>
#include <mutex>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace parley::store::sqlite {

namespace {
// RestartWalIfLong: the longest wait, in batches, between two wakes of a checkpoint thread
// whose passes make no progress (the waits double up to it: 1, 2, 4, …).
constexpr int kStalledWakeBatches = 32;
}  // namespace

// Runs on the writer thread, inside its COMMIT.
int SqliteStore::OnWalCommit(void* self, sqlite3*, const char*, int frames) {
  auto* store = static_cast<SqliteStore*>(self);
  if (frames < store->wal_frames_) {  // the WAL started over
    store->wal_restarts_.fetch_add(1, std::memory_order_relaxed);
    store->next_restart_try_ = store->options_.wal_restart_frames;
    store->backfilled_at_wake_ = -1;  // the last wake's count was the old WAL's
    store->stalled_wait_ = 1;
  }
  store->wal_frames_ = frames;
  ++store->wal_commits_;
  return SQLITE_OK;
}

// SQLite starts the WAL over (writing from its first frame again, on blocks the file already
// has) only when a write begins while every frame of it is in the database and no reader
// still reads from it. The checkpoint thread's passes never get there under constant load:
// each copies what was committed before it began, and the writer commits on. The WAL then
// grows for as long as the load lasts, and every commit's sync also allocates blocks and
// writes the inode. So past wal_restart_frames the writer checkpoints the rest itself,
// between two batches (after the last batch's callbacks); its next commit restarts the WAL.
// The writer copies only a small rest: when more than a sixteenth of the limit (at least 64
// frames) is not yet copied (the checkpoint thread is behind, or the WAL is left over from
// before a restart of Parley), it wakes the checkpoint thread for the bulk and looks again
// after the next batch. A reader still on old frames can prevent the restart: then the
// writer tries its own checkpoint again only after another eighth of the limit. While the
// rest stays large and the checkpoint thread's passes copy nothing (the reader still holds
// its frames), the writer waits longer between wakes, 1, 2, 4 … up to kStalledWakeBatches
// batches: each pass sorts the WAL's index to find what it may copy, a waste after every
// batch of a long read. A pass that copied something resets the wait.
void SqliteStore::RestartWalIfLong() {
  const int frames = wal_frames_;
  if (frames <= next_restart_try_) return;
  int backfilled = backfilled_frames_.load(std::memory_order_relaxed);
  int rest = backfilled <= frames ? frames - backfilled : frames;  // else: an older WAL's count
  if (rest > std::max(options_.wal_restart_frames / 16, 64)) {
    if (backfilled != backfilled_at_wake_) {
      stalled_wait_ = 1;
    } else if (++batches_since_wake_ < stalled_wait_) {
      return;
    } else {
      stalled_wait_ = std::min(stalled_wait_ * 2, kStalledWakeBatches);
    }
    backfilled_at_wake_ = backfilled;
    batches_since_wake_ = 0;
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_now_ = true;
    }
    checkpoint_cv_.notify_one();
    return;
  }
  int log_frames = 0;
  int done_frames = 0;
  int rc = sqlite3_wal_checkpoint_v2(writer_db_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                     &log_frames, &done_frames);
  if (rc == SQLITE_OK) next_restart_try_ = frames + options_.wal_restart_frames / 8;
  // SQLITE_BUSY: the checkpoint thread is copying; try again after the next batch.
}

void SqliteStore::CheckpointLoop() {
  uint64_t seen_batches = 0;
  int wal_frames = 0;
  std::unique_lock lock(checkpoint_mu_);
  while (true) {
    checkpoint_cv_.wait_for(lock, options_.checkpoint_interval,
                            [this] { return checkpoint_stopping_ || checkpoint_now_; });
    if (checkpoint_stopping_) return;
    bool asked = checkpoint_now_;  // by the writer, to copy the bulk of a long WAL
    checkpoint_now_ = false;
    uint64_t batches = committed_batches_.load(std::memory_order_acquire);
    int mode;
    if (batches != seen_batches || asked) {
      // PASSIVE never waits on the writer or readers; it copies what it can.
      mode = SQLITE_CHECKPOINT_PASSIVE;
    } else if (wal_frames > options_.wal_truncate_frames) {
      // Idle with a big WAL file: shrink it while nobody is writing.
      mode = SQLITE_CHECKPOINT_TRUNCATE;
    } else {
      continue;
    }
    lock.unlock();
    int log_frames = 0;
    int done_frames = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(checkpoint_db_->raw(), nullptr, mode, &log_frames, &done_frames);
    if (rc == SQLITE_OK && log_frames >= 0) {
      checkpoints_.fetch_add(1, std::memory_order_relaxed);
      checkpointed_frames_.fetch_add(static_cast<uint64_t>(std::max(done_frames, 0)),
                                     std::memory_order_relaxed);
      backfilled_frames_.store(std::max(done_frames, 0), std::memory_order_relaxed);
      seen_batches = batches;
      wal_frames = log_frames;
    } else if ((rc & 0xff) == SQLITE_BUSY) {
      // Try again on the next tick.
      busy_checkpoints_.fetch_add(1, std::memory_order_relaxed);
    }
    lock.lock();
  }
}

}  // namespace parley::store::sqlite
