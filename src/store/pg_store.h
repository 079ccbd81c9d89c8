// The shared store: the Store contract over PostgreSQL, for a fleet
// (docs/design.md, "The shared store"). One connection per store object,
// made at its first call; every call is one statement (a function of
// pg_schema.h) in autocommit; all calls of one object together wait at
// most `budget` (store_timeout), connecting included.
#pragma once

#include <chrono>
#include <memory>

#include "store/pg_connection.h"
#include "store/store.h"

namespace otp::store {

std::unique_ptr<Store> open_pg_store(PgConnectOptions options, std::chrono::milliseconds budget);

}  // namespace otp::store
