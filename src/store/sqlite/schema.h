// src/store/sqlite/schema.h
//
// The SQLite schema as an ordered list of versioned migrations. Open applies the ones the
// database has not seen, each in its own transaction, and records them in
// schema_migrations(version, applied_at).
//
//   PARLEY_RETURN_IF_ERROR(Migrate(*writer_db, clock));
#pragma once

#include "core/clock.h"
#include "core/status.h"
#include "store/sqlite/sqlite_db.h"

namespace parley::store::sqlite {

// The newest schema version this binary knows.
int LatestSchemaVersion();

// Brings the database up to LatestSchemaVersion(), or only up to `up_to` when it is
// positive (tests of a migration start from the version before it). Idempotent.
// Errors: kFailedPrecondition when the database was written by a newer binary (its version
// is above LatestSchemaVersion()); kInternal/kUnavailable from SQLite.
Status Migrate(Db& db, const Clock& clock, int up_to = 0);

// The highest applied version (0 for an empty database).
Result<int> CurrentSchemaVersion(Db& db);

}  // namespace parley::store::sqlite
